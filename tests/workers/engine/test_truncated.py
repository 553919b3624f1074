"""Cutting a built-in network after one layer: the same map as a hook sees, nothing deeper."""

import pytest
import torch
from torch import nn

from workers.engine.featurevis.speedups.fast import render_copy
from workers.engine.networks import load_builtin
from workers.engine.truncated import TruncationError, called_modules, truncated_module


def same_maps(cut, module, path, inputs):
    """Whether the cut module's output equals what a hook on `path` sees."""
    seen = []
    handle = module.get_submodule(path).register_forward_hook(
        lambda _m, _a, output: seen.append(output)
    )
    try:
        with torch.no_grad():
            module(inputs)
            return torch.equal(cut(inputs), seen[0])
    finally:
        handle.remove()


class Raises(nn.Module):
    def forward(self, x):
        raise AssertionError("a module after the cut ran")


class Branchy(nn.Module):
    """A forward that branches on the values of its input: not traceable."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        return self.conv(x) if x.sum() > 0 else x


class Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        return self.conv(self.conv(x))


@pytest.fixture(scope="module", params=["inception_v1", "mobilenet_v2"])
def network(request):
    return load_builtin(request.param, random_seed=0, input_size=64)


def test_every_layer_cut_gives_the_map_its_hook_sees(network):
    inputs = network.preprocess(torch.rand(2, 3, 64, 64))
    for copy in (network, render_copy(network, torch.device("cpu"))):
        channels_last = inputs.contiguous(memory_format=torch.channels_last)
        for layer in network.layers:
            path = network.module_paths[layer.name]
            cut = truncated_module(copy.module, path)
            assert same_maps(cut, copy.module, path, channels_last), layer.name


def test_the_cut_calls_nothing_after_its_layer():
    inception = load_builtin("inception_v1", random_seed=0, input_size=64)
    calls = called_modules(truncated_module(inception.module, "conv2d2"))

    assert calls[-1] == "conv2d2"
    assert not any(call.startswith("mixed") for call in calls)
    assert len(calls) == len(set(calls))


def test_a_module_after_the_cut_never_runs():
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), Raises())
    cut = truncated_module(module, "1")

    assert cut(torch.rand(1, 3, 8, 8)).shape == (1, 4, 6, 6)


def test_inside_a_block_the_cut_ends_within_it():
    mobilenet = load_builtin("mobilenet_v2", random_seed=0, input_size=64)
    path = "features.3.conv.2"
    cut = truncated_module(mobilenet.module, path)

    assert called_modules(cut)[-1] == path
    assert same_maps(cut, mobilenet.module, path, torch.rand(1, 3, 64, 64))


def test_the_cut_shares_the_networks_parameters():
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3))
    cut = truncated_module(module, "1")

    assert cut.get_submodule("0").weight is module[0].weight
    assert not hasattr(cut, "2")


@pytest.mark.parametrize(
    ("module", "path", "message"),
    [
        (Branchy(), "conv", "cannot trace"),
        (Twice(), "conv", "2 times"),
        (nn.Sequential(nn.Conv2d(3, 3, 1)), "5", "cannot trace"),
    ],
)
def test_a_network_that_cannot_be_cut_says_why(module, path, message):
    with pytest.raises(TruncationError, match=message):
        truncated_module(module, path)
