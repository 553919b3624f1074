"""The CUDA path of the renderer: skipped where no GPU is present (CI has none).

Self-contained (no fixtures from conftest files), so that it runs on a GPU machine with
`pytest --noconftest` where Django is not installed.
"""

from dataclasses import replace

import numpy as np
import pytest
import torch

from workers.engine.featurevis import batch
from workers.engine.featurevis.options import RenderOptions
from workers.engine.featurevis.render import render_units
from workers.engine.featurevis.speedups import compiled
from workers.engine.featurevis.speedups.fast import render_copy
from workers.engine.featurevis.speedups.stem import SpaceToDepthConv
from workers.engine.featurevis.transforms import transformed_size
from workers.engine.networks import load_builtin

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

STEPS = batch.GRAPH_FROM + 13
CUDA = torch.device("cuda")
# The render copy the default options on CUDA render with (space-to-depth stem).
DEFAULT_STEM = RenderOptions.for_device(CUDA).space_to_depth_stem


@pytest.fixture(scope="module")
def inception():
    return load_builtin("inception_v1", random_seed=0, input_size=96).to("cuda")


def _render(network, layer, units, *, graphs, transforms=True, compile=False):
    options = replace(RenderOptions.for_device(CUDA, compile=compile), cuda_graphs=graphs)
    return render_units(
        network,
        layer,
        units,
        steps=STEPS,
        size=48,
        objective="channel",
        transforms=transforms,
        options=options,
    )


@pytest.fixture
def deterministic():
    """Deterministic kernels where CUDA has them, so that two runs can be compared exactly."""
    torch.use_deterministic_algorithms(True, warn_only=True)
    yield
    torch.use_deterministic_algorithms(False)


def test_graph_replays_take_the_steps_eager_steps_take(inception, deterministic):
    # conv2d0, without transforms: grid_sample's backward, and the max-pools' backward
    # deeper in, add with atomics in no fixed order, and the optimisation amplifies that.
    units = [0, 5, 17, 40]
    graphed = _render(inception, "conv2d0", units, graphs=True, transforms=False)
    eager = _render(inception, "conv2d0", units, graphs=False, transforms=False)
    for ours, theirs in zip(graphed, eager, strict=True):
        assert ours.unit == theirs.unit
        assert [step for step, _ in ours.curve] == [step for step, _ in theirs.curve]
        difference = np.abs(ours.rgb.astype(int) - theirs.rgb.astype(int))
        assert difference.max() <= 2, f"unit {ours.unit}: {difference.max()}"
        assert ours.curve[-1][1] == pytest.approx(theirs.curve[-1][1], rel=1e-3, abs=1e-4)
        # The images moved away from the grey start, so the replays really optimised them.
        assert ours.rgb.std() > 5
        assert ours.curve[-1][1] > ours.curve[0][1]


def test_graph_replays_read_each_steps_transforms(inception):
    # Two eager renders of conv2d2 units 3 and 9 correlate 0.998 and 0.9996 on an H100, a
    # graphed and an eager one 0.993 and 0.999, and an eager render that kept the first
    # step's transforms throughout correlates 0.56 and 0.81 with the right one.
    units = [3, 9]
    graphed = _render(inception, "conv2d2", units, graphs=True)
    eager = _render(inception, "conv2d2", units, graphs=False)
    for ours, theirs in zip(graphed, eager, strict=True):
        # Not bit for bit (see above), but the same optimisation: a graph that replayed one
        # step's transforms throughout would overfit them and render another image.
        assert ours.curve[-1][1] == pytest.approx(theirs.curve[-1][1], rel=0.1)
        correlation = np.corrcoef(ours.rgb.ravel(), theirs.rgb.ravel())[0, 1]
        assert correlation > 0.9, f"unit {ours.unit}: {correlation}"


def test_graphed_mixed_layer_renders_reach_the_eager_objective(inception):
    # Deeper, the two drift further apart image by image (0.87 correlation on an H100, and
    # objectives 0.569 against 0.514 after 32 steps), so only the objective reached is
    # compared, and loosely: a broken replay would stop climbing after step 18.
    units = [3, 9, 200, 479]
    graphed = _render(inception, "mixed3b", units, graphs=True)
    eager = _render(inception, "mixed3b", units, graphs=False)
    for ours, theirs in zip(graphed, eager, strict=True):
        reached = dict(ours.curve)
        assert ours.curve[-1][1] > reached[16] > ours.curve[0][1]
        assert ours.curve[-1][1] > 0.8 * theirs.curve[-1][1]


def test_compiled_renders_reach_the_eager_networks_objective(inception):
    # The same optimisation with the network compiled (fused kernels, other bf16 rounding)
    # as with it eager: the graphed steps read the compiled network's maps, and it compiled.
    units = [3, 9, 200, 479]
    with_compile = _render(inception, "mixed3b", units, graphs=True, compile=True)
    key = ("mixed3b", True, transformed_size(48))
    copy = render_copy(inception, CUDA, space_to_depth_stem=DEFAULT_STEM)
    assert compiled._FORWARDS[copy][key] is not None
    eager = _render(inception, "mixed3b", units, graphs=True)
    for ours, theirs in zip(with_compile, eager, strict=True):
        reached = dict(ours.curve)
        assert ours.curve[-1][1] > reached[16] > ours.curve[0][1]
        assert ours.curve[-1][1] > 0.8 * theirs.curve[-1][1]


def test_the_render_copys_stem_is_space_to_depth_and_computes_the_same_maps(inception):
    copy = render_copy(inception, CUDA, space_to_depth_stem=DEFAULT_STEM)
    assert isinstance(copy.module.conv2d0_pre_relu_conv, SpaceToDepthConv)
    images = torch.rand(4, 3, 116, 116, device="cuda", generator=None)
    with torch.no_grad():
        ours = copy.activations(images, ["conv2d0", "mixed3a"])
        theirs = inception.activations(images, ["conv2d0", "mixed3a"])
    for layer in ("conv2d0", "mixed3a"):
        # float32 on both sides, but TF32 may round either side's convolution products.
        scale = theirs[layer].abs().max().item()
        assert scale > 0
        assert (ours[layer] - theirs[layer]).abs().max().item() <= 1e-2 * scale


def test_no_hooks_remain_after_graphed_renders(inception):
    for _ in range(3):
        _render(inception, "conv2d2", [1, 2], graphs=True)
    copy = render_copy(inception, CUDA, space_to_depth_stem=DEFAULT_STEM).module
    modules = [*inception.module.modules(), *copy.modules()]
    assert (
        sum(len(module._forward_hooks) + len(module._forward_pre_hooks) for module in modules) == 0
    )


def test_graphed_renders_finish_finite(inception):
    renders = _render(inception, "mixed3a", list(range(8)), graphs=True)
    assert all(np.isfinite(render.final_activation.max) for render in renders)
    assert all(np.isfinite(value) for render in renders for _, value in render.curve)
