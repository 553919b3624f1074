import numpy as np
import pytest
import torch

from workers.engine.weight_images import GAP_COLOUR, kernel_image, kernel_strip

RED, BLUE, WHITE = [255, 0, 0], [0, 0, 255], [255, 255, 255]


def test_positive_weight_is_red_negative_blue_zero_white():
    image = kernel_image(torch.tensor([[1.0, -1.0, 0.0]]), pixels_per_weight=1)

    assert image.tolist() == [[RED, BLUE, WHITE]]


def test_half_weights_are_pale():
    image = kernel_image(torch.tensor([[2.0, 1.0, -1.0]]), pixels_per_weight=1)

    # 255 · (1 − 0.5) = 127.5, rounded half to even.
    assert image.tolist() == [[RED, [255, 128, 128], [128, 128, 255]]]


def test_explicit_scale_saturates_larger_weights():
    image = kernel_image(torch.tensor([[3.0, -0.5]]), scale=1.0, pixels_per_weight=1)

    assert image.tolist() == [[RED, [128, 128, 255]]]


def test_all_zero_kernel_is_white():
    image = kernel_image(torch.zeros(2, 2), pixels_per_weight=1)

    assert np.unique(image).tolist() == [255]


def test_weights_are_enlarged_nearest_neighbour():
    image = kernel_image(torch.tensor([[1.0, -1.0]]), pixels_per_weight=3)

    assert image.shape == (3, 6, 3)
    assert image.dtype == np.uint8
    assert image[:, :3].reshape(-1, 3).tolist() == [RED] * 9


def test_kernel_must_be_two_dimensional():
    with pytest.raises(ValueError, match="kh, kw"):
        kernel_image(torch.zeros(1, 2, 2))


@pytest.mark.parametrize("pixels_per_weight", [0, 65], ids=["zero", "above_64"])
def test_pixels_per_weight_outside_1_to_64_is_refused(pixels_per_weight):
    with pytest.raises(ValueError, match="pixels_per_weight"):
        kernel_image(torch.zeros(2, 2), pixels_per_weight=pixels_per_weight)


def test_non_positive_scale_is_refused():
    with pytest.raises(ValueError, match="scale must be positive"):
        kernel_image(torch.zeros(2, 2), scale=0.0)


def test_strip_lays_kernels_in_one_row_one_pixel_apart():
    kernels = torch.tensor([[[1.0]], [[-1.0]], [[0.0]]])

    strip = kernel_strip(kernels, pixels_per_weight=1)

    assert strip.tolist() == [[RED, list(GAP_COLOUR), BLUE, list(GAP_COLOUR), WHITE]]


def test_strip_draws_every_kernel_at_one_scale():
    kernels = torch.tensor([[[2.0]], [[1.0]]])

    strip = kernel_strip(kernels, pixels_per_weight=1)

    assert strip[0, 2].tolist() == [255, 128, 128]


def test_strip_wraps_into_rows_of_the_given_columns():
    kernels = torch.ones(3, 2, 2)

    strip = kernel_strip(kernels, pixels_per_weight=2, columns=2)

    # Two rows and two columns of 4×4 tiles with a 1-pixel gap between them.
    assert strip.shape == (9, 9, 3)
    assert strip[5:, 5:].reshape(-1, 3).tolist() == [list(GAP_COLOUR)] * 16


def test_strip_refuses_an_empty_stack():
    with pytest.raises(ValueError, match="non-empty"):
        kernel_strip(torch.zeros(0, 3, 3))


def test_strip_refuses_columns_below_one():
    with pytest.raises(ValueError, match="columns must be at least 1"):
        kernel_strip(torch.zeros(2, 3, 3), columns=0)
