"""The space-to-depth first convolution of GPU render copies (stem.py), checked on CPU."""

import pytest
import torch
from torch import nn

from workers.engine.featurevis.speedups.fast import render_copy
from workers.engine.featurevis.speedups.stem import SpaceToDepthConv, applies, replace_strided_stems
from workers.engine.networks import load_builtin

CPU = torch.device("cpu")


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "height", "width"),
    [
        (7, 2, 0, 145, 145),  # InceptionV1's conv2d0 on its padded 140 px renders
        (7, 2, 0, 146, 151),
        (3, 2, 1, 224, 224),  # MobileNetV2's stem
        (3, 2, 1, 225, 140),
        (4, 2, 0, 13, 14),  # a kernel that is a whole number of blocks
        (5, 3, 2, 17, 20),
        ((3, 5), (2, 3), (1, 0), 15, 16),  # different along the two axes
    ],
)
def test_space_to_depth_computes_the_convolution_and_its_input_gradient(
    kernel, stride, padding, height, width
):
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 8, kernel, stride=stride, padding=padding).double()
    rewritten = SpaceToDepthConv(conv)
    x = torch.randn(2, 3, height, width, dtype=torch.float64, requires_grad=True)

    expected = conv(x)
    upstream = torch.randn_like(expected)
    (expected_gradient,) = torch.autograd.grad(expected, x, upstream)
    ours = rewritten(x)
    (gradient,) = torch.autograd.grad(ours, x, upstream)

    torch.testing.assert_close(ours, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gradient, expected_gradient, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "conv",
    [
        nn.Conv2d(3, 8, 3, padding=1),  # no stride
        nn.Conv2d(16, 8, 3, stride=2),  # many channels
        nn.Conv2d(4, 8, 3, stride=2, groups=2),
        nn.Conv2d(3, 8, 3, stride=2, dilation=2),
        nn.Conv2d(3, 8, 3, stride=2, padding="valid"),
        nn.Conv2d(3, 8, 3, stride=2, padding=1, padding_mode="reflect"),
    ],
)
def test_only_plain_strided_few_channel_convolutions_are_rewritten(conv):
    assert not applies(conv)
    with pytest.raises(ValueError, match="not a strided few-channel convolution"):
        SpaceToDepthConv(conv)


@pytest.mark.parametrize(
    ("architecture", "stem", "layer"),
    [
        ("inception_v1", "conv2d0_pre_relu_conv", "mixed3a"),
        ("mobilenet_v2", "features.0.0", "features.3"),
    ],
)
def test_a_render_copy_with_it_computes_the_networks_maps(architecture, stem, layer):
    network = load_builtin(architecture, random_seed=0, input_size=64)
    copy = render_copy(network, CPU, space_to_depth_stem=True)
    images = torch.rand(2, 3, 67, 64)

    assert isinstance(copy.module.get_submodule(stem), SpaceToDepthConv)
    with torch.no_grad():
        torch.testing.assert_close(
            copy.activations(images, [layer])[layer],
            network.activations(images, [layer])[layer],
            rtol=1e-4,
            atol=1e-4,
        )


def test_render_copies_keep_the_convolution_unless_asked():
    copy = render_copy(load_builtin("inception_v1", random_seed=0, input_size=64), CPU)

    assert not isinstance(copy.module.conv2d0_pre_relu_conv, SpaceToDepthConv)


def test_replace_strided_stems_counts_what_it_replaced():
    module = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.Sequential(nn.Conv2d(8, 8, 3, stride=2))
    )

    assert replace_strided_stems(module) == 1
    assert isinstance(module[0], SpaceToDepthConv)
    assert type(module[2][0]) is nn.Conv2d
