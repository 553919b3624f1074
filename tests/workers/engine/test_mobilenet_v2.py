import torch
import torch.nn.functional as F

from workers.engine.architectures.mobilenet_v2 import IMAGENET_MEAN, preprocess
from workers.engine.networks import bundled_weights_path
from workers.engine.state_dicts import read_state_dict


def _image(seed, size=224):
    return torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_bundled_file_holds_312_tensors_that_all_load(pretrained_mobilenet):
    stored = read_state_dict(bundled_weights_path("mobilenet_v2"))
    loaded = pretrained_mobilenet.module.state_dict()

    assert len(stored) == 312
    assert all(torch.equal(loaded[key], tensor) for key, tensor in stored.items())


def test_layers_are_named_in_forward_order(pretrained_mobilenet):
    blocks = [
        name
        for block in range(2, 18)
        for name in (f"features.{block}.expand", f"features.{block}.depthwise", f"features.{block}")
    ]
    expected = ["features.0", "features.1.depthwise", "features.1", *blocks, "features.18"]

    assert [layer.name for layer in pretrained_mobilenet.layers] == expected
    assert [layer.order for layer in pretrained_mobilenet.layers] == list(range(52))


def test_layers_have_the_architecture_channels(pretrained_mobilenet):
    channels = {
        name: pretrained_mobilenet.layer(name).channels
        for name in ("features.0", "features.1", "features.2.expand", "features.17", "features.18")
    }

    assert channels == {
        "features.0": 32,
        "features.1": 16,
        "features.2.expand": 96,
        "features.17": 320,
        "features.18": 1280,
    }


def test_layer_sizes_at_224_pixels(pretrained_mobilenet):
    stem = pretrained_mobilenet.layer("features.0")
    last = pretrained_mobilenet.layer("features.18")

    assert (stem.height, stem.width) == (112, 112)
    assert (last.height, last.width) == (7, 7)


def test_layer_kinds(pretrained_mobilenet):
    kinds = {
        name: pretrained_mobilenet.layer(name).kind
        for name in ("features.0", "features.5.expand", "features.5.depthwise", "features.5")
    }

    assert kinds == {
        "features.0": "conv",
        "features.5.expand": "expand",
        "features.5.depthwise": "depthwise",
        "features.5": "block",
    }


def test_receptive_fields_and_strides(pretrained_mobilenet):
    fields = {
        name: (
            pretrained_mobilenet.layer(name).receptive_field,
            pretrained_mobilenet.layer(name).stride,
        )
        for name in ("features.0", "features.1", "features.2.depthwise", "features.18")
    }

    assert fields == {
        "features.0": (3, 2),
        "features.1": (7, 2),
        "features.2.depthwise": (11, 4),
        "features.18": (491, 32),
    }


def test_preprocessing_centres_the_imagenet_mean_colour():
    mean_image = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1).expand(1, 3, 4, 4)

    assert torch.allclose(preprocess(mean_image), torch.zeros(1, 3, 4, 4), atol=1e-6)


def test_activations_are_finite_and_repeatable(pretrained_mobilenet):
    image = _image(0)

    first = pretrained_mobilenet.activations(image, ["features.18"])["features.18"]
    second = pretrained_mobilenet.activations(image, ["features.18"])["features.18"]

    assert torch.isfinite(first).all()
    assert torch.equal(first, second)


def test_stem_output_is_clipped_by_relu6(pretrained_mobilenet):
    stem = pretrained_mobilenet.activations(_image(1), ["features.0"])["features.0"]

    assert stem.min() >= 0
    assert stem.max() <= 6
    assert stem.max() > 0


def test_residual_block_adds_its_input_to_its_branch(pretrained_mobilenet):
    maps = pretrained_mobilenet.activations(_image(2), ["features.2", "features.3"])
    branch = pretrained_mobilenet.module.features[3].conv(maps["features.2"])

    assert torch.allclose(maps["features.3"], maps["features.2"] + branch, atol=1e-5)


def test_stem_input_filters_reproduce_its_response_up_to_a_constant(pretrained_mobilenet):
    stem = pretrained_mobilenet.module.features[0]
    image = _image(3, size=32)

    def pre_activation(pixels):
        return stem[1](stem[0](preprocess(pixels)))

    response = pre_activation(image) - pre_activation(torch.zeros_like(image))
    filtered = F.conv2d(
        image, pretrained_mobilenet.input_filters("features.0"), stride=2, padding=1
    )

    # Row and column 0 read the zero padding, where the dropped mean shift is not constant.
    assert torch.allclose(filtered[..., 1:, 1:], response[..., 1:, 1:], atol=1e-4)
