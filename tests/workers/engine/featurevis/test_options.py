import torch

from workers.engine.featurevis.options import RenderOptions
from workers.engine.featurevis.render import render_units
from workers.engine.featurevis.speedups import fast
from workers.engine.featurevis.speedups.fast import render_copy
from workers.engine.featurevis.speedups.stem import SpaceToDepthConv
from workers.engine.networks import load_builtin

CPU = torch.device("cpu")


def test_the_default_options_on_cuda_compute_the_stem_space_to_depth_and_graph_steps():
    assert RenderOptions.for_device("cuda") == RenderOptions(
        compile=False, cuda_graphs=True, space_to_depth_stem=True
    )


def test_the_default_options_on_cpu_keep_the_stem_and_do_not_compile():
    assert RenderOptions.for_device(CPU) == RenderOptions(
        compile=False, cuda_graphs=True, space_to_depth_stem=False
    )


def test_a_render_without_options_uses_the_devices_defaults():
    network = load_builtin("inception_v1", random_seed=0, input_size=64)

    render_units(network, "conv2d0", [0], steps=1, size=16)

    assert set(fast._COPIES[network]) == {(CPU, False)}


def test_a_render_runs_the_render_copy_its_options_ask_for():
    network = load_builtin("inception_v1", random_seed=0, input_size=64)

    render_units(
        network, "conv2d0", [0], steps=1, size=16, options=RenderOptions(space_to_depth_stem=True)
    )

    copy = render_copy(network, CPU, space_to_depth_stem=True)
    assert isinstance(copy.module.conv2d0_pre_relu_conv, SpaceToDepthConv)
    assert set(fast._COPIES[network]) == {(CPU, True)}
