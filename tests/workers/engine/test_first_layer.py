import numpy as np
import pytest
import torch

from workers.engine.first_layer import first_layer_weight_images


class _FixedFilters:
    """Stands in for a LoadedNetwork whose first layer has hand-set filters."""

    def __init__(self, filters):
        self.filters = filters

    def input_filters(self, layer_name):
        return self.filters


def _two_units():
    """Unit 0 spans [-1, 1] in red; unit 1 is half as strong, in blue."""
    filters = torch.zeros(2, 3, 2, 2)
    filters[0, 0] = torch.tensor([[1.0, -1.0], [0.5, 0.0]])
    filters[1, 2] = torch.tensor([[0.5, 0.0], [0.0, -0.25]])
    return _FixedFilters(filters)


def test_unit_normalisation_maps_each_filter_to_full_range():
    images = first_layer_weight_images(_two_units(), "conv", pixels_per_weight=1)

    # 0.5 + 0.5·w/max|w|, times 255, rounded half to even: 0 → 127.5 → 128.
    assert images[0].rgb[..., 0].tolist() == [[255, 0], [191, 128]]
    assert images[0].rgb[..., 1].tolist() == [[128, 128], [128, 128]]
    assert images[1].rgb[..., 2].tolist() == [[255, 128], [128, 64]]


def test_layer_normalisation_uses_one_maximum_for_all_units():
    images = first_layer_weight_images(_two_units(), "conv", pixels_per_weight=1, normalize="layer")

    assert images[1].rgb[..., 2].tolist() == [[191, 128], [128, 96]]


def test_weights_are_enlarged_nearest_neighbour():
    images = first_layer_weight_images(_two_units(), "conv", pixels_per_weight=3)

    assert images[0].rgb.shape == (6, 6, 3)
    assert images[0].rgb.dtype == np.uint8
    assert images[0].rgb[:3, :3, 0].tolist() == [[255] * 3] * 3
    assert images[0].rgb[3:, 3:, 0].tolist() == [[128] * 3] * 3


def test_images_are_indexed_by_unit():
    images = first_layer_weight_images(_two_units(), "conv")

    assert [image.index for image in images] == [0, 1]


def test_stats_describe_the_raw_weights():
    images = first_layer_weight_images(_two_units(), "conv")

    assert images[0].stats == {"l2_norm": 1.5, "max_abs": 1.0, "mean_rgb": [0.125, 0.0, 0.0]}


def test_all_zero_filter_is_flat_grey():
    images = first_layer_weight_images(_FixedFilters(torch.zeros(1, 3, 2, 2)), "conv")

    assert np.unique(images[0].rgb).tolist() == [128]


@pytest.mark.parametrize("pixels_per_weight", [0, 65], ids=["zero", "above_64"])
def test_pixels_per_weight_outside_1_to_64_is_refused(pixels_per_weight):
    with pytest.raises(ValueError, match="pixels_per_weight"):
        first_layer_weight_images(_two_units(), "conv", pixels_per_weight=pixels_per_weight)


def test_unknown_normalisation_is_refused():
    with pytest.raises(ValueError, match="normalize"):
        first_layer_weight_images(_two_units(), "conv", normalize="global")


def test_pretrained_mobilenet_stem_gives_one_image_per_unit(pretrained_mobilenet):
    images = first_layer_weight_images(pretrained_mobilenet, "features.0")

    assert len(images) == 32
    assert {image.rgb.shape for image in images} == {(24, 24, 3)}
