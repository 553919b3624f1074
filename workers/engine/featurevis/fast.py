"""A render-optimised copy of a network: batch norms folded, channels-last, on one device.

Its 1×1 convolutions are matrix products over the channels, and its ReLUs are Rectifiers,
which can redirect their gradient early in a render (see relu.py).

Built once per (network, device) and cached beside the network, so that repeated renders
pay for it once. The network itself is left untouched.
"""

import copy
import weakref
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from workers.engine.featurevis.relu import replace_rectifiers
from workers.engine.networks import LoadedNetwork

_COPIES: "weakref.WeakKeyDictionary[LoadedNetwork, dict[torch.device, LoadedNetwork]]" = (
    weakref.WeakKeyDictionary()
)


def folded_convolution(conv: nn.Conv2d, norm: nn.BatchNorm2d) -> nn.Conv2d:
    """A convolution computing `norm(conv(x))` of an eval-mode batch norm, with a bias."""
    # Float64 keeps the folded weights within rounding of the two-step computation.
    scale = (norm.running_var.double() + norm.eps).rsqrt()
    if norm.affine:
        scale = scale * norm.weight.double()
    bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(scale)
    bias = (bias - norm.running_mean.double()) * scale
    if norm.affine:
        bias = bias + norm.bias.double()
    folded = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        bias=True,
        padding_mode=conv.padding_mode,
        device=conv.weight.device,
        dtype=conv.weight.dtype,
    )
    with torch.no_grad():
        folded.weight.copy_(conv.weight.double() * scale.view(-1, 1, 1, 1))
        folded.bias.copy_(bias)
    return folded


def _foldable(first: nn.Module, second: nn.Module) -> bool:
    """Whether `second` is a batch norm with running statistics over `first`'s output."""
    return (
        type(first) is nn.Conv2d
        and type(second) is nn.BatchNorm2d
        and second.running_mean is not None
        and first.out_channels == second.num_features
    )


def fold_batch_norms(module: nn.Module) -> int:
    """Fold every batch norm that directly follows a convolution in a Sequential, in place.

    The convolution becomes one with the batch norm folded in and the batch norm an
    Identity, so module paths and the outputs of every other module stay the same. The
    module must be in eval mode and no studied layer may be a convolution's own output when
    a batch norm follows it (true of the built-in architectures). Returns how many it folded.
    """
    folded = 0
    for sequential in [m for m in module.modules() if type(m) is nn.Sequential]:
        for (conv_name, conv), (norm_name, norm) in pairwise(list(sequential.named_children())):
            if _foldable(conv, norm):
                setattr(sequential, conv_name, folded_convolution(conv, norm))
                setattr(sequential, norm_name, nn.Identity())
                folded += 1
    return folded


class PointwiseConv(nn.Module):
    """A 1×1 convolution computed as one matrix product over the channels of each position.

    On channels-last maps the channels are the innermost axis, so this is a single GEMM with
    the bias fused in. torch's own 1×1 path on CPU (one thread, batches under 16) first
    broadcasts the bias into a channels-last output, which costs more than the product.
    """

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.weight = nn.Parameter(conv.weight.detach().flatten(1).clone())
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
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
    replaced = 0
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if _pointwise(child):
                setattr(parent, name, PointwiseConv(child))
                replaced += 1
    return replaced


def render_copy(network: LoadedNetwork, device: torch.device) -> LoadedNetwork:
    """The network as renders run it on `device`: frozen, batch norms folded, channels-last.

    Its 1×1 convolutions are PointwiseConvs and its ReLUs Rectifiers. Cached per (network,
    device); it shares the network's layers and preprocessing.
    """
    copies = _COPIES.setdefault(network, {})
    if device not in copies:
        module = copy.deepcopy(network.module).eval()
        fold_batch_norms(module)
        replace_pointwise_convolutions(module)
        replace_rectifiers(module)
        for parameter in module.parameters():
            parameter.requires_grad_(False)
        # A shallow copy keeps the layer table and the capture; only the module differs.
        fast = copy.copy(network)
        fast.module = module.to(device=device, memory_format=torch.channels_last)
        fast.device = device
        copies[device] = fast
    return copies[device]
