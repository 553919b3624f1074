"""A render-optimised copy of a network: batch norms folded, channels-last, on one device.

Its 1×1 convolutions are matrix products over the channels (pointwise.py), its ReLUs are
Rectifiers, which can redirect their gradient early in a render (relu.py), a convolution
followed by a Rectifier runs as one kernel on CPU (fused.py), and where asked (on the GPU by
default: `RenderOptions`) its strided first convolution runs space-to-depth (stem.py).

Built once per (network, device, stem) and cached beside the network, so that repeated
renders pay for it once. The network itself is left untouched.
"""

import copy
import weakref
from itertools import pairwise

import torch
from torch import nn

from workers.engine.featurevis.relu import replace_rectifiers
from workers.engine.featurevis.speedups.fused import fuse_rectifiers
from workers.engine.featurevis.speedups.pointwise import replace_pointwise_convolutions
from workers.engine.featurevis.speedups.stem import replace_strided_stems
from workers.engine.networks import LoadedNetwork

# (device, space-to-depth stem or not)
CopyKey = tuple[torch.device, bool]

_COPIES: "weakref.WeakKeyDictionary[LoadedNetwork, dict[CopyKey, LoadedNetwork]]" = (
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


def render_copy(
    network: LoadedNetwork, device: torch.device, *, space_to_depth_stem: bool = False
) -> LoadedNetwork:
    """The network as renders run it on `device`: frozen, batch norms folded, channels-last.

    Its 1×1 convolutions are PointwiseConvs, its ReLUs Rectifiers, fused with the convolution
    before them where there is one; space_to_depth_stem: its strided first convolution a
    SpaceToDepthConv. Cached per (network, device, stem); it shares the network's layers and
    preprocessing.
    """
    copies = _COPIES.setdefault(network, {})
    key = (device, space_to_depth_stem)
    if key not in copies:
        module = copy.deepcopy(network.module).eval()
        fold_batch_norms(module)
        replace_pointwise_convolutions(module)
        replace_rectifiers(module)
        if space_to_depth_stem:
            replace_strided_stems(module)
        fuse_rectifiers(module)
        for parameter in module.parameters():
            parameter.requires_grad_(False)
        # A shallow copy keeps the layer table and the capture; only the module differs.
        fast = copy.copy(network)
        fast.module = module.to(device=device, memory_format=torch.channels_last)
        fast.device = device
        copies[key] = fast
    return copies[key]
