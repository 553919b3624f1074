import torch
from torch import nn

from workers.engine.featurevis.speedups.fast import fold_batch_norms, render_copy
from workers.engine.featurevis.speedups.fused import Rectified, RectifiedConv
from workers.engine.featurevis.speedups.pointwise import (
    PointwiseConv,
    replace_pointwise_convolutions,
)

CPU = torch.device("cpu")
# MobileNetV2: the stem, 2 in the first block, 3 in each of the other 16, the last 1×1 conv.
MOBILENET_BATCH_NORMS = 52
# Every ReLU6: the stem, 1 in the first block, 2 in each of the other 16, the last conv.
MOBILENET_RECTIFIERS = 35
# The first block's projection, the expansion and projection of the other 16, the last conv.
MOBILENET_POINTWISE = 34


def randomise_batch_norms(module: nn.Module):
    """Statistics and affine parameters far from the identity a fresh batch norm has."""
    generator = torch.Generator().manual_seed(0)
    for norm in [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]:
        count = norm.num_features
        norm.running_mean.copy_(torch.randn(count, generator=generator) * 0.5)
        norm.running_var.copy_(torch.rand(count, generator=generator) + 0.5)
        norm.weight.data.copy_(torch.randn(count, generator=generator))
        norm.bias.data.copy_(torch.randn(count, generator=generator))


def batch_norms(module: nn.Module) -> int:
    return sum(isinstance(m, nn.BatchNorm2d) for m in module.modules())


def test_folding_preserves_every_studied_layer_of_mobilenet(small_mobilenet):
    randomise_batch_norms(small_mobilenet.module)
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    names = [layer.name for layer in small_mobilenet.layers]

    expected = small_mobilenet.activations(images, names)
    folded = render_copy(small_mobilenet, CPU).activations(images, names)

    for name in names:
        torch.testing.assert_close(folded[name], expected[name], rtol=1e-5, atol=1e-5)


def test_folding_replaces_every_batch_norm_of_mobilenet(small_mobilenet):
    module = small_mobilenet.module

    assert fold_batch_norms(module) == MOBILENET_BATCH_NORMS
    assert batch_norms(module) == 0


def test_folding_keeps_module_paths(small_mobilenet):
    paths = [name for name, _ in small_mobilenet.module.named_modules()]

    fold_batch_norms(small_mobilenet.module)

    assert [name for name, _ in small_mobilenet.module.named_modules()] == paths


def test_batch_norms_not_after_a_convolution_stay():
    module = nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 3, 1), nn.ReLU())

    assert fold_batch_norms(module) == 0
    assert batch_norms(module) == 1


def test_pointwise_conv_equals_the_convolution_on_channels_last_maps():
    conv = nn.Conv2d(5, 7, 1)
    maps = torch.randn(2, 5, 4, 3, generator=torch.Generator().manual_seed(0))
    channels_last = maps.contiguous(memory_format=torch.channels_last)

    torch.testing.assert_close(PointwiseConv(conv)(channels_last), conv(maps))


def test_pointwise_conv_equals_the_convolution_on_contiguous_maps():
    conv = nn.Conv2d(5, 7, 1, bias=False)
    maps = torch.randn(2, 5, 4, 3, generator=torch.Generator().manual_seed(0))

    torch.testing.assert_close(PointwiseConv(conv)(maps), conv(maps))


def test_pointwise_conv_keeps_channels_last_maps_channels_last():
    maps = torch.randn(2, 5, 4, 3).contiguous(memory_format=torch.channels_last)

    out = PointwiseConv(nn.Conv2d(5, 7, 1))(maps)

    assert out.is_contiguous(memory_format=torch.channels_last)


def test_every_plain_one_by_one_convolution_of_mobilenet_is_replaced(small_mobilenet):
    module = small_mobilenet.module

    assert replace_pointwise_convolutions(module) == MOBILENET_POINTWISE
    assert sum(isinstance(m, PointwiseConv) for m in module.modules()) == MOBILENET_POINTWISE


def test_strided_padded_or_grouped_convolutions_stay():
    module = nn.Sequential(
        nn.Conv2d(4, 4, 1, stride=2), nn.Conv2d(4, 4, 1, padding=1), nn.Conv2d(4, 4, 1, groups=2)
    )

    assert replace_pointwise_convolutions(module) == 0


def test_render_copy_fuses_every_rectifier_of_mobilenet_with_its_convolution(small_mobilenet):
    module = render_copy(small_mobilenet, CPU).module

    assert sum(type(m) is RectifiedConv for m in module.modules()) == MOBILENET_RECTIFIERS
    assert sum(type(m) is Rectified for m in module.modules()) == MOBILENET_RECTIFIERS


def test_render_copy_leaves_the_network_untouched(tiny_network):
    render_copy(tiny_network, CPU)

    assert batch_norms(tiny_network.module) == 2


def test_render_copy_is_built_once_per_network_and_device(tiny_network):
    assert render_copy(tiny_network, CPU) is render_copy(tiny_network, CPU)


def test_render_copy_has_no_trainable_parameters(tiny_network):
    copy = render_copy(tiny_network, CPU)

    assert not any(parameter.requires_grad for parameter in copy.module.parameters())


def test_render_copy_is_channels_last(tiny_network):
    module = render_copy(tiny_network, CPU).module
    weights = [m.weight for m in module.modules() if isinstance(m, nn.Conv2d)]

    assert len(weights) == 2
    assert all(weight.is_contiguous(memory_format=torch.channels_last) for weight in weights)
