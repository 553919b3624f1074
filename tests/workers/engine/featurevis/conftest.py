from functools import partial

import pytest
import torch
from torch import nn

from workers.engine.capture import capture_by_hooks
from workers.engine.networks import LayerInfo, LoadedNetwork

TINY_SIZE = 16


class NeverRuns(nn.Module):
    """A layer after every studied one: rendering must stop before it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("a layer deeper than the target ran")


def tiny_module() -> nn.Module:
    """Two conv + batch norm + ReLU stages with random statistics, then a NeverRuns."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module = nn.Sequential(
            nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU()),
            nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.BatchNorm2d(6), nn.ReLU()),
            NeverRuns(),
        )
        for norm in (module[0][1], module[1][1]):
            norm.running_mean.normal_()
            norm.running_var.uniform_(0.5, 2.0)
            norm.weight.data.normal_()
            norm.bias.data.normal_()
    return module


@pytest.fixture
def tiny_network():
    """A fresh hand-built network with studied layers "first" (4 units) and "second" (6)."""
    layers = [
        LayerInfo("first", "conv", 0, 4, TINY_SIZE, TINY_SIZE, 3, 1),
        LayerInfo("second", "conv", 1, 6, TINY_SIZE // 2, TINY_SIZE // 2, 7, 2),
    ]
    return LoadedNetwork(
        tiny_module(),
        preprocess=lambda images: images * 2 - 1,
        capture=partial(capture_by_hooks, module_paths={"first": "0", "second": "1"}),
        layers=layers,
        input_filters={},
        input_size=TINY_SIZE,
    )
