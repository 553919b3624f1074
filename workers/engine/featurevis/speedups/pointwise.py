"""1×1 convolutions as matrix products over the channels of channels-last maps."""

import torch
import torch.nn.functional as F
from torch import nn

from workers.engine.featurevis.speedups.swap import replace_submodules


def onednn_applies(x: torch.Tensor, module: nn.Module) -> bool:
    """Whether the oneDNN kernels serve: float32 channels-last CPU maps, frozen weights."""
    return (
        x.device.type == "cpu"
        and x.dtype == torch.float32
        and not torch.is_autocast_enabled("cpu")
        and x.is_contiguous(memory_format=torch.channels_last)
        and not any(parameter.requires_grad for parameter in module.parameters())
    )


def channel_product(
    inner: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """inner [..., in] @ weight.T (+ bias) by oneDNN: [..., out] (CPU, float32).

    10-40% faster than torch's matmul at these shapes on one thread (MKL's GEMM, and for
    F.linear a copy of the broadcast bias first), bit for bit the same here.
    """
    return torch.ops.mkldnn._linear_pointwise(inner.contiguous(), weight, bias, "none", [], "")


class _FrozenPointwise(torch.autograd.Function):
    """A 1×1 convolution of channels-last maps by oneDNN; the gradient reaches x only."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(weight)
        return channel_product(x.permute(0, 2, 3, 1), weight, bias).permute(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved_tensors
        inner = channel_product(grad.permute(0, 2, 3, 1), weight.t().contiguous())
        return inner.permute(0, 3, 1, 2), None, None


class PointwiseConv(nn.Module):
    """A 1×1 convolution computed as one matrix product over the channels of each position.

    On channels-last maps the channels are the innermost axis, so this is a single GEMM.
    torch's own 1×1 path on CPU (one thread, batches under 16) first broadcasts the bias
    into a channels-last output, which costs more than the product. Frozen, on float32 CPU
    maps, forward and backward are oneDNN matrix products with the bias in the kernel.
    """

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.weight = nn.Parameter(conv.weight.detach().flatten(1).clone())
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if onednn_applies(x, self):
            return _FrozenPointwise.apply(x, self.weight, self.bias)
        return F.linear(x.permute(0, 2, 3, 1), self.weight, self.bias).permute(0, 3, 1, 2)


def _pointwise(module: nn.Module) -> bool:
    """Whether the module is a plain 1×1 convolution: stride 1, no padding, one group."""
    return (
        type(module) is nn.Conv2d
        and module.kernel_size == (1, 1)
        and module.stride == (1, 1)
        and module.padding in ((0, 0), "valid")
        and module.groups == 1
    )


def replace_pointwise_convolutions(module: nn.Module) -> int:
    """Swap every plain 1×1 Conv2d submodule for a PointwiseConv, in place; returns how many."""
    return replace_submodules(
        module, lambda child: PointwiseConv(child) if _pointwise(child) else None
    )
