import pytest
import torch
import torch.nn.functional as F

from workers.engine.architectures.inception_v1 import (
    LRN_ALPHA,
    LRN_BETA,
    LRN_K,
    LRN_SIZE,
    _lrn,
    _max_pool_stride_2,
    preprocess,
)
from workers.engine.networks import load_builtin

CHANNELS = {
    "conv2d0": 64,
    "conv2d1": 64,
    "conv2d2": 192,
    "mixed3a": 256,
    "mixed3b": 480,
    "mixed4a": 508,
    "mixed4b": 512,
    "mixed4c": 512,
    "mixed4d": 528,
    "mixed4e": 832,
    "mixed5a": 832,
    "mixed5b": 1024,
}

RECEPTIVE_FIELDS = {
    "conv2d0": (7, 2),
    "conv2d1": (11, 4),
    "conv2d2": (19, 4),
    "mixed3a": (59, 8),
    "mixed3b": (91, 8),
    "mixed4a": (171, 16),
    "mixed4b": (235, 16),
    "mixed4c": (299, 16),
    "mixed4d": (363, 16),
    "mixed4e": (427, 16),
    "mixed5a": (587, 32),
    "mixed5b": (715, 32),
}


@pytest.fixture(scope="module")
def inception_224():
    return load_builtin("inception_v1", random_seed=0)


def _image(size):
    return torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))


def test_layers_are_the_papers_layers_in_order(inception_224):
    assert [layer.name for layer in inception_224.layers] == list(CHANNELS)


def test_layers_have_the_papers_channels_at_224(inception_224):
    assert {layer.name: layer.channels for layer in inception_224.layers} == CHANNELS


def test_layer_sizes_at_224(inception_224):
    sizes = {layer.name: (layer.height, layer.width) for layer in inception_224.layers}

    assert sizes == {
        "conv2d0": (112, 112),
        "conv2d1": (56, 56),
        "conv2d2": (56, 56),
        "mixed3a": (28, 28),
        "mixed3b": (28, 28),
        "mixed4a": (14, 14),
        "mixed4b": (14, 14),
        "mixed4c": (14, 14),
        "mixed4d": (14, 14),
        "mixed4e": (14, 14),
        "mixed5a": (7, 7),
        "mixed5b": (7, 7),
    }


def test_layer_kinds(inception_224):
    kinds = {layer.name: layer.kind for layer in inception_224.layers}

    assert kinds == {
        "conv2d0": "conv",
        "conv2d1": "conv",
        "conv2d2": "conv",
        **{name: "mixed" for name in list(CHANNELS)[3:]},
    }


def test_receptive_fields_match_the_reference_table(inception_224):
    fields = {layer.name: (layer.receptive_field, layer.stride) for layer in inception_224.layers}

    assert fields == RECEPTIVE_FIELDS


def test_random_network_runs_to_the_last_layer_with_finite_values(inception_224):
    maps = inception_224.activations(_image(224), ["mixed5b"])

    assert maps["mixed5b"].shape == (1, 1024, 7, 7)
    assert torch.isfinite(maps["mixed5b"]).all()


def test_parameters_follow_the_inception5h_key_layout(small_inception):
    shapes = {key: tuple(value.shape) for key, value in small_inception.module.state_dict().items()}

    assert len(shapes) == 116
    assert shapes["conv2d0_pre_relu_conv.weight"] == (64, 3, 7, 7)
    assert shapes["mixed3a_3x3_bottleneck_pre_relu_conv.weight"] == (96, 192, 1, 1)
    assert shapes["mixed3a_5x5_pre_relu_conv.weight"] == (32, 16, 5, 5)
    assert shapes["mixed4a_3x3_pre_relu_conv.weight"] == (204, 96, 3, 3)
    assert shapes["mixed5b_pool_reduce_pre_relu_conv.weight"] == (128, 832, 1, 1)
    assert shapes["softmax2_pre_activation_matmul.weight"] == (1008, 1024)


@pytest.mark.parametrize(
    ("layer", "boundaries"),
    [("mixed3a", (0, 64, 192, 224, 256)), ("mixed4a", (0, 192, 396, 444, 508))],
    ids=["mixed3a", "mixed4a"],
)
def test_units_are_numbered_by_branch_in_order_1x1_3x3_5x5_pool(small_inception, layer, boundaries):
    branches = ("1x1", "3x3", "5x5", "pool_reduce")
    with torch.no_grad():
        for marker, branch in enumerate(branches, start=1):
            conv = small_inception.module.get_submodule(f"{layer}_{branch}_pre_relu_conv")
            conv.weight.zero_()
            conv.bias.fill_(marker)

    units = small_inception.activations(_image(64), [layer])[layer]

    _, three, five, pool, end = boundaries
    assert units.shape[1] == end
    assert torch.all(units[:, :three] == 1)
    assert torch.all(units[:, three:five] == 2)
    assert torch.all(units[:, five:pool] == 3)
    assert torch.all(units[:, pool:] == 4)


def test_saved_state_dict_reloads_strictly_with_the_same_activations(small_inception, tmp_path):
    path = tmp_path / "inception5h.pth"
    torch.save(small_inception.module.state_dict(), path)

    reloaded = load_builtin("inception_v1", weights_path=path, input_size=64)

    image = _image(64)
    original = small_inception.activations(image, ["mixed4e"])["mixed4e"]
    assert torch.equal(reloaded.activations(image, ["mixed4e"])["mixed4e"], original)


def test_preprocessing_maps_pixels_to_the_lucid_range():
    pixels = torch.tensor([0.0, 1.0]).view(1, 1, 1, 2).expand(1, 3, 1, 2)

    assert preprocess(pixels)[0, :, 0].tolist() == [[-117.0, 138.0]] * 3


def test_conv2d0_input_filters_are_its_weights_times_255(small_inception):
    weight = small_inception.module.conv2d0_pre_relu_conv.weight

    assert torch.equal(small_inception.input_filters("conv2d0"), weight * 255)


def test_small_inputs_shrink_every_layer(small_inception):
    sizes = [(layer.height, layer.width) for layer in small_inception.layers]

    assert sizes == [(32, 32), (16, 16), (16, 16), (8, 8), (8, 8)] + [(4, 4)] * 5 + [(2, 2)] * 2


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("channels", [5, 64])
def test_local_response_norm_is_torchs_forward_and_backward(channels, channels_last):
    generator = torch.Generator().manual_seed(channels)
    maps = torch.randn(2, channels, 7, 6, generator=generator, dtype=torch.float64) * 40
    if channels_last:
        maps = maps.contiguous(memory_format=torch.channels_last)
    ours = maps.clone().requires_grad_(True)
    torchs = maps.clone().requires_grad_(True)
    expected = F.local_response_norm(torchs, LRN_SIZE, alpha=LRN_ALPHA, beta=LRN_BETA, k=LRN_K)
    result = _lrn(ours)
    weights = torch.randn(result.shape, generator=generator, dtype=torch.float64)
    (result * weights).sum().backward()
    (expected * weights).sum().backward()
    assert torch.allclose(result, expected, rtol=1e-12, atol=0)
    assert torch.allclose(ours.grad, torchs.grad, rtol=1e-10, atol=1e-14)
    # The normalisation really divides: without it the maps would come back unchanged.
    assert not torch.allclose(result, maps)


@pytest.mark.parametrize("size", [6, 7, 70, 71])
def test_stride_2_max_pool_is_tensorflows_same_padding(size):
    maps = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(size))
    padded = F.pad(maps, (0, 1, 0, 1), value=float("-inf"))
    ours = maps.clone().requires_grad_(True)
    theirs = maps.clone().requires_grad_(True)
    pooled = _max_pool_stride_2(ours)
    expected = F.max_pool2d(F.pad(theirs, (0, 1, 0, 1), value=float("-inf")), 3, stride=2)
    assert pooled.shape == expected.shape == F.max_pool2d(padded, 3, stride=2).shape
    assert torch.equal(pooled, expected)
    pooled.sum().backward()
    expected.sum().backward()
    assert torch.equal(ours.grad, theirs.grad)
