"""The compiled network of render steps, exercised on CPU with torch.compile's "aot_eager"
backend (the whole path but code generation; CUDA with inductor: test_cuda.py)."""

import logging
from functools import partial

import numpy as np
import pytest
import torch
from torch import nn

from workers.engine.capture import capture_by_hooks
from workers.engine.featurevis import batch, compiled
from workers.engine.featurevis.fast import render_copy
from workers.engine.featurevis.relu import REDIRECT_STEPS
from workers.engine.featurevis.render import render_units
from workers.engine.networks import LayerInfo, LoadedNetwork, load_builtin

from .conftest import NeverRuns

CPU = torch.device("cpu")
STEPS = REDIRECT_STEPS + 4
FEW = {"steps": STEPS, "size": 32, "transforms": False}


@pytest.fixture
def compiling(monkeypatch):
    monkeypatch.setattr(compiled, "COMPILE_DEVICES", {"cpu"})
    monkeypatch.setattr(compiled, "BACKEND", "aot_eager")


@pytest.fixture
def forwards_used(monkeypatch):
    """Counts target_maps calls by whether they ran a compiled forward."""
    used = {"compiled": 0, "hooked": 0}
    original = batch.target_maps

    def counting(network, images, layer, forward=None):
        used["hooked" if forward is None else "compiled"] += 1
        return original(network, images, layer, forward)

    monkeypatch.setattr(batch, "target_maps", counting)
    return used


def _inception():
    return load_builtin("inception_v1", random_seed=0, input_size=64)


def _same_renders(ours, theirs):
    for one, other in zip(ours, theirs, strict=True):
        assert np.array_equal(one.rgb, other.rgb)
        assert one.curve == other.curve


def test_nothing_compiles_unless_asked():
    assert compiled.compiled_forward(render_copy(_inception(), CPU), "mixed3a") is None


@pytest.mark.parametrize(
    ("architecture", "layer"), [("inception_v1", "mixed3a"), ("mobilenet_v2", "features.3")]
)
def test_compiled_steps_render_what_eager_steps_render(
    architecture, layer, compiling, forwards_used
):
    network = load_builtin(architecture, random_seed=0, input_size=64)
    with_compile = render_units(network, layer, [0, 3, 7], **FEW)
    # After the redirected steps, every step ran the compiled network.
    assert forwards_used["compiled"] == STEPS - REDIRECT_STEPS
    assert compiled._FORWARDS[render_copy(network, CPU)][layer] is not None
    compiled.COMPILE_DEVICES.clear()

    _same_renders(with_compile, render_units(network, layer, [0, 3, 7], **FEW))


def test_a_failing_compile_falls_back_to_the_eager_network(monkeypatch, compiling, caplog):
    def broken(graph, example_inputs):
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(compiled, "BACKEND", broken)
    network = _inception()
    with caplog.at_level(logging.WARNING, logger=compiled.__name__):
        with_fallback = render_units(network, "conv2d2", [1, 2], **FEW)

    assert compiled._FORWARDS[render_copy(network, CPU)]["conv2d2"] is None
    assert "rendering conv2d2 eagerly: torch.compile failed" in caplog.text
    compiled.COMPILE_DEVICES.clear()
    _same_renders(with_fallback, render_units(network, "conv2d2", [1, 2], **FEW))


def test_a_network_without_module_paths_renders_eagerly(tiny_network, compiling, forwards_used):
    render_units(tiny_network, "second", [0], **FEW)

    assert forwards_used["compiled"] == 0


def test_the_compiled_network_stops_at_the_target_layer(compiling, forwards_used):
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
    (result,) = render_units(network, "second", [0], **FEW)

    assert forwards_used["compiled"] == STEPS - REDIRECT_STEPS
    assert np.isfinite(result.final_activation.max)
