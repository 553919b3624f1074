import weakref

import pytest
import torch
from torch import nn

from workers.engine.networks import load_torchscript

# torch 2.13 deprecates TorchScript, which stays the engine's format for user models.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning"
)

LAYERS = ["features.2", "features.0", "features.1.depthwise", "features.4.expand"]


class _TwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.second = nn.Conv2d(4, 5, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        first = self.first(x)
        return {"first": first, "second": self.second(first)}


def _image(size=64):
    return torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0))


def _streamed(network, images, layer_names):
    """(name, map) in the order stream_activations hands them over."""
    received = []
    network.stream_activations(
        images, layer_names, lambda name, maps: received.append((name, maps))
    )
    return received


def _all_forward_hooks(module):
    return [hook for submodule in module.modules() for hook in submodule._forward_hooks.values()]


def test_streamed_maps_equal_the_captured_maps(small_mobilenet):
    with torch.inference_mode():
        streamed = dict(_streamed(small_mobilenet, _image(), LAYERS))
        captured = small_mobilenet.activations(_image(), LAYERS)

    assert sorted(streamed) == sorted(LAYERS)
    assert all(torch.equal(streamed[name], captured[name]) for name in LAYERS)


def test_built_in_networks_stream_maps_in_forward_order(small_mobilenet):
    with torch.inference_mode():
        names = [name for name, _ in _streamed(small_mobilenet, _image(), LAYERS)]

    assert names == ["features.0", "features.1.depthwise", "features.2", "features.4.expand"]


def test_streaming_a_layer_twice_hands_it_over_once(small_mobilenet):
    with torch.inference_mode():
        names = [name for name, _ in _streamed(small_mobilenet, _image(), ["features.1"] * 2)]

    assert names == ["features.1"]


def test_streaming_stops_after_the_deepest_requested_layer(small_mobilenet):
    later_calls = []
    probe = small_mobilenet.module.features[2].register_forward_hook(
        lambda *args: later_calls.append(args)
    )

    with torch.inference_mode():
        _streamed(small_mobilenet, _image(), ["features.1", "features.0"])
    probe.remove()

    assert later_calls == []


def test_streaming_leaves_no_hooks_behind(small_mobilenet):
    with torch.inference_mode():
        _streamed(small_mobilenet, _image(), LAYERS)

    assert _all_forward_hooks(small_mobilenet.module) == []


def test_streaming_removes_its_hooks_when_the_receiver_fails(small_mobilenet):
    def refuse(name, maps):
        raise RuntimeError("receiver failed")

    with pytest.raises(RuntimeError, match="receiver failed"):
        small_mobilenet.stream_activations(_image(), ["features.3"], refuse)

    assert _all_forward_hooks(small_mobilenet.module) == []


def test_a_streamed_map_is_freed_once_the_forward_no_longer_needs_it(small_mobilenet):
    # At each arrival, of the maps handed over before, only the running block's input is
    # still alive (the forward holds it for the block); capturing would hold them all.
    alive_at_arrival = []
    references = []

    def watch(name, maps):
        alive_at_arrival.append(sum(reference() is not None for reference in references))
        references.append(weakref.ref(maps))

    with torch.inference_mode():
        small_mobilenet.stream_activations(
            _image(),
            ["features.0", "features.1.depthwise", "features.1", "features.2.expand"],
            watch,
        )

    assert alive_at_arrival == [0, 1, 1, 1]


def test_torchscript_networks_stream_maps_in_the_requested_order(tmp_path):
    path = tmp_path / "model.pt"
    torch.jit.script(_TwoLayers()).save(str(path))
    network = load_torchscript(path, input_size=32)

    with torch.inference_mode():
        streamed = _streamed(network, _image(32), ["second", "first"])
        captured = network.activations(_image(32), ["second", "first"])

    assert [name for name, _ in streamed] == ["second", "first"]
    assert all(torch.equal(maps, captured[name]) for name, maps in streamed)


def test_streaming_refuses_unknown_layers_and_wrong_images(small_mobilenet):
    with pytest.raises(ValueError, match=r"\[B, 3, H, W\]"):
        small_mobilenet.stream_activations(torch.zeros(1, 1, 64, 64), ["features.0"], print)
    with pytest.raises(ValueError, match="non-empty"):
        small_mobilenet.stream_activations(_image(), [], print)
