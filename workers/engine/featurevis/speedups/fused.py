"""A convolution and the Rectifier after it as one oneDNN kernel on CPU.

On CPU a render step is bound by memory traffic on the early, wide maps (MobileNetV2's 96
channels at 70×70: 15 MB per map at a batch of 8). Unfused, a 1×1 expansion broadcasts its
bias into the output, adds the product to it, then the ReLU6 reads it and writes a second
map that autograd keeps beside the first. Fused, oneDNN writes the clamped output once, and
the backward computes the clamp's gradient from that output (0 < y < 6 exactly where
0 < x < 6), so the convolution's own output is never stored.

Elsewhere (CUDA, other dtypes, trainable weights) the modules run the convolution and the
Rectifier one after the other, as before.
"""

import torch
import torch.nn.functional as F
from torch import nn

from workers.engine.featurevis.relu import Rectifier, rectified_gradient
from workers.engine.featurevis.speedups.pointwise import (
    PointwiseConv,
    channel_product,
    onednn_applies,
)


def _attr(high: float | None) -> tuple[str, list[float]]:
    """oneDNN's name and scalars for relu (high None) or clamp(0, high)."""
    return ("relu", []) if high is None else ("hardtanh", [0.0, high])


class _RectifiedLinear(torch.autograd.Function):
    """rectify(x @ weight.T + bias) over the last axis; the gradient reaches x only."""

    @staticmethod
    def forward(ctx, x, weight, bias, high, redirect):
        attr, scalars = _attr(high)
        y = torch.ops.mkldnn._linear_pointwise(x, weight, bias, attr, scalars, "")
        ctx.save_for_backward(y, weight)
        ctx.high, ctx.redirect = high, redirect
        return y

    @staticmethod
    def backward(ctx, grad):
        y, weight = ctx.saved_tensors
        upstream = rectified_gradient(grad, y, ctx.high, ctx.redirect)
        return channel_product(upstream, weight.t().contiguous()), None, None, None, None


# oneDNN's input gradient of a convolution with this few input channels (the first layer,
# on RGB) takes 4-5 times its forward; a GEMM and col2im take about three quarters of that.
FEW_CHANNELS = 4


def _few_channel_input_gradient(
    upstream: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, conv: nn.Conv2d
) -> torch.Tensor:
    """conv2d's input gradient as one GEMM per image and col2im (F.fold); groups == 1."""
    batch, channels = upstream.shape[:2]
    rows = upstream.permute(0, 2, 3, 1).reshape(batch, -1, channels)
    columns = torch.matmul(weight.flatten(1).t(), rows.transpose(1, 2))
    return F.fold(
        columns,
        x.shape[2:],
        conv.kernel_size,
        dilation=conv.dilation,
        padding=conv.padding,
        stride=conv.stride,
    )


class _RectifiedConvolution(torch.autograd.Function):
    """rectify(conv2d(x, weight, bias)); the gradient reaches x only."""

    @staticmethod
    def forward(ctx, x, weight, bias, conv: nn.Conv2d, high, redirect):
        attr, scalars = _attr(high)
        y = torch.ops.mkldnn._convolution_pointwise(
            x,
            weight,
            bias,
            conv.padding,
            conv.stride,
            conv.dilation,
            conv.groups,
            attr,
            scalars,
            "",
        )
        ctx.save_for_backward(x, weight, y)
        ctx.conv, ctx.high, ctx.redirect = conv, high, redirect
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight, y = ctx.saved_tensors
        conv = ctx.conv
        upstream = rectified_gradient(grad, y, ctx.high, ctx.redirect)
        if conv.groups == 1 and conv.in_channels <= FEW_CHANNELS:
            return _few_channel_input_gradient(upstream, x, weight, conv), *[None] * 5
        (grad_x, _, _) = torch.ops.aten.convolution_backward(
            upstream,
            x,
            weight,
            None,
            conv.stride,
            conv.padding,
            conv.dilation,
            False,
            [0, 0],
            conv.groups,
            [True, False, False],
        )
        return grad_x, None, None, None, None, None


class RectifiedConv(Rectifier):
    """A Conv2d or PointwiseConv followed by a Rectifier, computed in one kernel on CPU.

    It redirects its gradient while `redirect`, as the Rectifier it replaces did.
    """

    def __init__(self, convolution: nn.Module, high: float | None):
        super().__init__(high)
        self.convolution = convolution

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        convolution = self.convolution
        if not onednn_applies(x, convolution):
            return super().forward(convolution(x))
        if isinstance(convolution, nn.Conv2d):
            return _RectifiedConvolution.apply(
                x, convolution.weight, convolution.bias, convolution, self.high, self.redirect
            )
        channels_inner = x.permute(0, 2, 3, 1)
        y = _RectifiedLinear.apply(
            channels_inner, convolution.weight, convolution.bias, self.high, self.redirect
        )
        return y.permute(0, 3, 1, 2)


class Rectified(nn.Identity):
    """Where a Rectifier stood whose work the RectifiedConv before it now does: passes on.

    Kept so that module paths, and hooks on them, stay where they were.
    """


def _fusable_convolution(module: nn.Module) -> bool:
    """A PointwiseConv, or a 2-D Conv2d with numeric zero padding."""
    if type(module) is PointwiseConv:
        return True
    return (
        type(module) is nn.Conv2d
        and module.padding_mode == "zeros"
        and not isinstance(module.padding, str)
        and len(module.kernel_size) == 2
    )


def fuse_rectifiers(module: nn.Module) -> int:
    """In every Sequential, fuse a convolution with the Rectifier after it, in place.

    Identities between them (folded batch norms) are skipped. The convolution becomes a
    RectifiedConv and the Rectifier a Rectified, so module paths stay; the convolution's own
    output is then rectified, so no studied layer may be a fused convolution's output (true
    of the built-in architectures, whose batch norms are folded the same way). Returns how
    many it fused.
    """
    fused = 0
    for sequential in [m for m in module.modules() if type(m) is nn.Sequential]:
        children = list(sequential.named_children())
        for position, (conv_name, conv) in enumerate(children):
            if not _fusable_convolution(conv):
                continue
            following = [child for _, child in children[position + 1 :]]
            while following and type(following[0]) is nn.Identity:
                following.pop(0)
            if not following or type(following[0]) is not Rectifier:
                continue
            rectifier = following[0]
            rectifier_name = next(name for name, child in children if child is rectifier)
            setattr(sequential, conv_name, RectifiedConv(conv, rectifier.high))
            setattr(sequential, rectifier_name, Rectified())
            fused += 1
    return fused


def unfuse(parent: nn.Module, name: str) -> bool:
    """Undo the fusion of the `Rectified` child `name` of a Sequential, in place.

    The RectifiedConv that does its work (the first child before it that is not a plain
    Identity, as `fuse_rectifiers` paired them) becomes its convolution again, so that its
    output is the convolution's own. Returns whether there was a fusion to undo.
    """
    if type(getattr(parent, name)) is not Rectified:
        return False
    children = list(parent.named_children())
    position = next(index for index, (child, _) in enumerate(children) if child == name)
    conv_name, conv = next(
        (child, module)
        for child, module in reversed(children[:position])
        if type(module) is not nn.Identity
    )
    if type(conv) is not RectifiedConv:
        raise ValueError(f"{name!r} is Rectified but {conv_name!r} before it is not fused.")
    setattr(parent, conv_name, conv.convolution)
    return True
