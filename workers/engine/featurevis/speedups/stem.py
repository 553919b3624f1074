"""A strided convolution on few channels rewritten as a stride-1 one on more (space-to-depth).

A network's first convolution reads 3 RGB channels with a stride of 2 (InceptionV1's 7×7,
MobileNetV2's 3×3). Rendering needs its input gradient at every step, and on the GPU that
gradient is a poor fit for the convolution libraries: a strided transposed convolution
writing 3 channels (4.3 ms of a 26.7 ms InceptionV1 step on an H100, bench/GPU.md).

Folding each s × s block of pixels into channels (`pixel_unshuffle`) turns the convolution
into a stride-1 one with s²× the input channels and a kernel of ceil(k / s) taps, the
original kernel zero-padded to a multiple of s and cut into the same blocks. It computes the
same sums (the extra taps are zeros), forward and backward, and both directions run as
ordinary stride-1 convolutions.
"""

import torch
import torch.nn.functional as F
from torch import nn

from workers.engine.featurevis.speedups.swap import replace_submodules

# Convolutions with at most this many input channels and a stride are rewritten.
FEW_CHANNELS = 4


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def space_to_depth_weight(weight: torch.Tensor, stride: tuple[int, int]) -> torch.Tensor:
    """[O, C, kh, kw] weights as [O, C·sh·sw, ceil(kh/sh), ceil(kw/sw)] for pixel_unshuffle.

    pixel_unshuffle puts pixel (y·sh + dy, x·sw + dx) of channel c at channel
    c·sh·sw + dy·sw + dx, position (y, x); tap (i·sh + dy, j·sw + dx) of the kernel becomes
    tap (i, j) of that channel.
    """
    out_channels, channels, height, width = weight.shape
    sh, sw = stride
    taps_h, taps_w = -(-height // sh), -(-width // sw)
    padded = F.pad(weight, (0, taps_w * sw - width, 0, taps_h * sh - height))
    blocks = padded.reshape(out_channels, channels, taps_h, sh, taps_w, sw)
    return blocks.permute(0, 1, 3, 5, 2, 4).reshape(
        out_channels, channels * sh * sw, taps_h, taps_w
    )


class SpaceToDepthConv(nn.Module):
    """A frozen strided Conv2d computed as pixel_unshuffle and a stride-1 convolution.

    Same output as the convolution it replaces, for any input size that convolution takes.
    """

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        if not applies(conv):
            raise ValueError(f"not a strided few-channel convolution: {conv}")
        self.stride = _pair(conv.stride)
        self.padding = _pair(conv.padding)
        self.kernel_size = _pair(conv.kernel_size)
        self.out_channels = conv.out_channels
        weight = space_to_depth_weight(conv.weight.detach(), self.stride)
        self.weight = nn.Parameter(weight, requires_grad=False)
        bias = conv.bias.detach().clone() if conv.bias is not None else None
        self.bias = None if bias is None else nn.Parameter(bias, requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (sh, sw), (ph, pw), (kh, kw) = self.stride, self.padding, self.kernel_size
        height, width = x.shape[-2] + 2 * ph, x.shape[-1] + 2 * pw
        out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
        taps_h, taps_w = self.weight.shape[-2:]
        # Rows and columns the stride-1 convolution reads: whole blocks, the last ones only
        # under the kernel's zero taps (or cut off where the original never reached).
        need_h, need_w = (out_h + taps_h - 1) * sh, (out_w + taps_w - 1) * sw
        x = F.pad(x, (pw, need_w - width + pw, ph, need_h - height + ph))
        blocks = F.pixel_unshuffle(x, sh) if sh == sw else _unshuffle(x, sh, sw)
        return F.conv2d(blocks, self.weight, self.bias)


def _unshuffle(x: torch.Tensor, sh: int, sw: int) -> torch.Tensor:
    """pixel_unshuffle with different factors along the two axes."""
    batch, channels, height, width = x.shape
    blocks = x.reshape(batch, channels, height // sh, sh, width // sw, sw)
    return blocks.permute(0, 1, 3, 5, 2, 4).reshape(
        batch, channels * sh * sw, height // sh, width // sw
    )


def applies(module: nn.Module) -> bool:
    """A plain zero-padded 2-D Conv2d on few channels with a stride, groups and dilation 1."""
    return (
        type(module) is nn.Conv2d
        and module.in_channels <= FEW_CHANNELS
        and module.groups == 1
        and _pair(module.dilation) == (1, 1)
        and max(_pair(module.stride)) > 1
        and module.padding_mode == "zeros"
        and not isinstance(module.padding, str)
    )


def replace_strided_stems(module: nn.Module) -> int:
    """Replace every such convolution in the module by a SpaceToDepthConv, in place.

    The module's weights must be frozen (render copies). Returns how many it replaced.
    """
    return replace_submodules(
        module, lambda child: SpaceToDepthConv(child) if applies(child) else None
    )
