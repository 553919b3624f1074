"""The compiled network of render steps, exercised on CPU with torch.compile's "aot_eager"
backend (the whole path but code generation; CUDA with inductor: test_cuda.py)."""

import logging
from functools import partial

import numpy as np
import pytest
import torch
from torch import nn

from workers.engine.capture import capture_by_hooks
from workers.engine.featurevis import batch
from workers.engine.featurevis.options import RenderOptions
from workers.engine.featurevis.relu import REDIRECT_STEPS
from workers.engine.featurevis.render import render_units, rendered_network
from workers.engine.featurevis.speedups import compiled
from workers.engine.featurevis.transforms import transformed_size
from workers.engine.networks import LayerInfo, LoadedNetwork, load_builtin

from ..conftest import NeverRuns

CPU = torch.device("cpu")
STEPS = REDIRECT_STEPS + 4
FEW = {"steps": STEPS, "size": 32, "transforms": False}


@pytest.fixture
def compiling(monkeypatch):
    """Options that compile renders, with a backend that runs on CPU."""
    monkeypatch.setattr(compiled, "BACKEND", "aot_eager")
    return RenderOptions(compile=True)


@pytest.fixture
def hooked_forwards(monkeypatch):
    """Counts the forwards of the hooked network (the steps and final maps not compiled)."""
    used = {"hooked": 0}
    original = batch.target_maps

    def counting(network, images, layer):
        used["hooked"] += 1
        return original(network, images, layer)

    monkeypatch.setattr(batch, "target_maps", counting)
    return used


def _inception():
    return load_builtin("inception_v1", random_seed=0, input_size=64)


def _same_renders(ours, theirs):
    for one, other in zip(ours, theirs, strict=True):
        assert np.array_equal(one.rgb, other.rgb)
        assert one.curve == other.curve


def test_nothing_compiles_unless_the_options_ask(monkeypatch, hooked_forwards):
    monkeypatch.setattr(compiled, "BACKEND", "aot_eager")
    network = _inception()

    render_units(network, "mixed3a", [0, 3], **FEW)

    assert hooked_forwards["hooked"] == STEPS + 1
    assert rendered_network(network, "mixed3a", CPU, RenderOptions()) not in compiled._FORWARDS


@pytest.mark.parametrize(
    ("architecture", "layer", "transforms"),
    [
        ("inception_v1", "mixed3a", False),
        ("mobilenet_v2", "features.3", False),
        ("inception_v1", "conv2d2", True),
    ],
)
def test_compiled_steps_render_what_eager_steps_render(
    architecture, layer, transforms, compiling, hooked_forwards
):
    network = load_builtin(architecture, random_seed=0, input_size=64)
    settings = {**FEW, "transforms": transforms}
    with_compile = render_units(network, layer, [0, 3, 7], options=compiling, **settings)
    # The hooked network ran the redirected steps and the final maps; the compiled front
    # every other step.
    assert hooked_forwards["hooked"] == REDIRECT_STEPS + 1
    out_size = transformed_size(FEW["size"]) if transforms else None
    rendered = rendered_network(network, layer, CPU, RenderOptions())
    assert compiled._FORWARDS[rendered][(layer, True, out_size)] is not None

    _same_renders(with_compile, render_units(network, layer, [0, 3, 7], **settings))


def test_every_layer_a_worker_renders_compiles_past_dynamos_default_limit(
    monkeypatch, compiling, hooked_forwards
):
    # Dynamo stops compiling a function after 8 versions of it by default; every layer is a
    # version of Front.forward, and a worker renders more layers than that.
    compiles = []

    def counting(graph, example_inputs):
        compiles.append(graph)
        return graph.forward

    monkeypatch.setattr(compiled, "BACKEND", counting)
    network = _inception()
    layers = [layer.name for layer in network.layers[:10]]
    for layer in layers:
        render_units(network, layer, [0, 1], options=compiling, **FEW)

    assert len(layers) == 10
    assert len(compiles) == len(layers)
    # Only the redirected steps and the final maps of each render ran the hooked network.
    assert hooked_forwards["hooked"] == len(layers) * (REDIRECT_STEPS + 1)


def test_a_failing_compile_falls_back_to_the_eager_network(monkeypatch, compiling, caplog):
    def broken(graph, example_inputs):
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(compiled, "BACKEND", broken)
    network = _inception()
    with caplog.at_level(logging.WARNING, logger=compiled.__name__):
        with_fallback = render_units(network, "conv2d2", [1, 2], options=compiling, **FEW)

    rendered = rendered_network(network, "conv2d2", CPU, RenderOptions())
    assert compiled._FORWARDS[rendered][("conv2d2", True, None)] is None
    assert "rendering conv2d2 eagerly: torch.compile failed" in caplog.text
    _same_renders(with_fallback, render_units(network, "conv2d2", [1, 2], **FEW))


def test_a_network_without_module_paths_renders_eagerly(tiny_network, compiling, hooked_forwards):
    render_units(tiny_network, "second", [0], options=compiling, **FEW)

    assert hooked_forwards["hooked"] == STEPS + 1


def test_the_compiled_network_stops_at_the_target_layer(compiling, hooked_forwards):
    module = nn.Sequential(
        nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()),
        nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.ReLU()),
        NeverRuns(),
    )
    paths = {"first": "0", "second": "1"}
    network = LoadedNetwork(
        module,
        preprocess=lambda images: images * 2 - 1,
        capture=partial(capture_by_hooks, module_paths=paths),
        layers=[
            LayerInfo("first", "conv", 0, 4, 16, 16, 3, 1),
            LayerInfo("second", "conv", 1, 6, 8, 8, 7, 2),
        ],
        input_filters={},
        input_size=16,
        module_paths=paths,
    )
    (result,) = render_units(network, "second", [0], options=compiling, **FEW)

    assert hooked_forwards["hooked"] == REDIRECT_STEPS + 1
    assert np.isfinite(result.final_activation.max)
