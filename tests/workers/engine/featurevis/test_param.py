import math

import pytest
import torch

from workers.engine.featurevis.param import (
    COLOUR_CORRELATION_SQRT,
    colour_matrix,
    colour_sums,
    decorrelate_colour,
    fft_coefficients,
    finish_images,
    image_source,
    pixel_values,
    spectrum_scale,
)

CPU = torch.device("cpu")


def generators(*seeds):
    return [torch.Generator().manual_seed(seed) for seed in seeds]


def test_colour_matrix_is_lucids_divided_by_its_largest_column_norm():
    matrix = torch.tensor(COLOUR_CORRELATION_SQRT)
    largest = matrix.norm(dim=0).max()

    torch.testing.assert_close(colour_matrix(), matrix / largest)
    assert colour_matrix().norm(dim=0).max().item() == pytest.approx(1.0)


def test_decorrelate_colour_multiplies_the_channel_vectors_by_the_matrix_transpose():
    images = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))
    matrix = colour_matrix()

    expected = (images.permute(0, 2, 3, 1) @ matrix.T).permute(0, 3, 1, 2)

    torch.testing.assert_close(decorrelate_colour(images, matrix), expected)
    # The weighted sums the GPU takes compute the same product.
    torch.testing.assert_close(colour_sums(images, matrix), expected)


def test_spectrum_scale_is_one_over_frequency_capped_at_one_over_the_size():
    scale = spectrum_scale(8)

    assert scale.shape == (8, 5)
    assert scale[0, 0].item() == pytest.approx(8.0)
    assert scale[0, 1].item() == pytest.approx(8.0)
    assert scale[0, 2].item() == pytest.approx(4.0)
    assert scale[0, 4].item() == pytest.approx(2.0)
    assert scale[1, 1].item() == pytest.approx(8.0 / math.sqrt(2.0))
    assert scale[7, 1].item() == pytest.approx(8.0 / math.sqrt(2.0))


def test_fft_coefficients_have_one_real_and_imaginary_pair_per_rfft_frequency():
    assert fft_coefficients(generators(0, 1), 10).shape == (2, 3, 10, 6, 2)


def test_fft_coefficients_start_normal_with_standard_deviation_0_01():
    coefficients = fft_coefficients(generators(0, 1), 64)

    assert coefficients.std().item() == pytest.approx(0.01, rel=0.02)
    assert abs(coefficients.mean().item()) < 2e-4


def test_fft_coefficients_of_an_image_depend_only_on_its_generator():
    alone = fft_coefficients(generators(7), 16)
    in_batch = fft_coefficients(generators(3, 7), 16)

    torch.testing.assert_close(in_batch[1], alone[0], rtol=0, atol=0)


def test_pixel_values_start_normal_with_standard_deviation_0_01():
    values = pixel_values(generators(0, 1), 64)

    assert values.shape == (2, 3, 64, 64)
    assert values.std().item() == pytest.approx(0.01, rel=0.02)


@pytest.mark.parametrize("kind", ["fft", "pixel"])
def test_finished_images_are_rgb_strictly_inside_zero_one(kind):
    values, raw = image_source(kind, generators(0, 1), 32, device=CPU)
    # Push far out so that only the sigmoid keeps the pixels in range.
    images = finish_images(raw(values.detach() * 1e4), colour_matrix())

    assert images.shape == (2, 3, 32, 32)
    assert images.min().item() >= 0.0
    assert images.max().item() <= 1.0


@pytest.mark.parametrize("kind", ["fft", "pixel"])
def test_an_image_source_starts_close_to_grey(kind):
    values, raw = image_source(kind, generators(0), 32, device=CPU)

    assert (finish_images(raw(values), colour_matrix()) - 0.5).abs().max().item() < 0.05


def test_an_image_source_is_one_leaf_tensor_for_the_whole_batch():
    values, _ = image_source("fft", generators(0, 1, 2), 16, device=CPU)

    assert values.is_leaf
    assert values.requires_grad
    assert values.shape[0] == 3


def test_fft_image_is_the_orthonormal_irfft2_of_scaled_coefficients_over_four():
    values, raw = image_source("fft", generators(0), 8, device=CPU)
    spectrum = torch.view_as_complex(values.detach()) * spectrum_scale(8)
    expected = torch.sigmoid(torch.fft.irfft2(spectrum, s=(8, 8), norm="ortho") / 4)

    torch.testing.assert_close(finish_images(raw(values.detach()), None), expected)


def test_an_image_source_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="param must be one of fft, pixel"):
        image_source("cppn", generators(0), 8, device=CPU)
