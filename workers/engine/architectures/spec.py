"""How a built-in architecture describes itself to the engine."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class StudiedLayer:
    """A layer researchers study: the output of one named submodule.

    `path` lists the (kernel, stride) operations from the previous studied layer to this one
    along the path that widens the receptive field most; architectures order their studied
    layers so that each one's widest input is the layer before it.
    """

    name: str
    kind: str
    module: str
    path: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Architecture:
    """A built-in network: its modules, preprocessing and studied layers."""

    name: str
    build: Callable[[], nn.Module]
    preprocess: Callable[[torch.Tensor], torch.Tensor]
    layers: tuple[StudiedLayer, ...]
    # Layers computed from the image by one convolution, with the function giving their
    # effective filters on [0, 1] RGB pixels.
    input_filters: Mapping[str, Callable[[nn.Module], torch.Tensor]]


def receptive_fields(layers: Sequence[StudiedLayer]) -> dict[str, tuple[int, int]]:
    """Theoretical receptive field and total stride of each layer, in input pixels."""
    size, jump = 1, 1
    fields = {}
    for layer in layers:
        for kernel, stride in layer.path:
            size += (kernel - 1) * jump
            jump *= stride
        fields[layer.name] = (size, jump)
    return fields
