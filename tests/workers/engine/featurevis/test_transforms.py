import math

import torch
import torch.nn.functional as F

from workers.engine.featurevis.transforms import (
    ANGLES_DEGREES,
    SCALES,
    apply_transforms,
    draw_transforms,
    transform_matrices,
    transformed_size,
)

SIZE = 20
OUT = transformed_size(SIZE)
# First jitter (4, 4), scale index 5 (1.0), angle index 10 (0°), last jitter (2, 2).
CENTRED = [4, 4, 5, 10, 2, 2]


def generators(*seeds):
    return [torch.Generator().manual_seed(seed) for seed in seeds]


def images(batch):
    return torch.rand(batch, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0))


def steps_in_turn(image, draw):
    """Pad, jitter, scale and rotate about the centre, jitter: the transforms one by one."""
    first_x, first_y, scale_index, angle_index, last_x, last_y = draw
    frame = SIZE + 16
    padded = F.pad(image[None], (12, 12, 12, 12), value=0.5)
    cropped = padded[:, :, first_y : first_y + frame, first_x : first_x + frame]
    radians = math.radians(ANGLES_DEGREES[angle_index])
    cos, sin = math.cos(radians), math.sin(radians)
    inverse = torch.tensor([[cos, sin, 0.0], [-sin, cos, 0.0]]) / torch.tensor(
        [[SCALES[scale_index]] * 2 + [1.0]]
    )
    grid = F.affine_grid(inverse[None], [1, 3, frame, frame], align_corners=False)
    turned = F.grid_sample(cropped - 0.5, grid, align_corners=False) + 0.5
    return turned[0, :, last_y : last_y + OUT, last_x : last_x + OUT]


def test_transformed_images_are_twelve_pixels_larger():
    assert transformed_size(128) == 140


def test_scales_run_from_0_90_to_1_10_in_steps_of_0_02():
    assert SCALES == (0.9, 0.92, 0.94, 0.96, 0.98, 1.0, 1.02, 1.04, 1.06, 1.08, 1.1)


def test_angles_run_from_minus_10_to_10_degrees_with_zero_weighted_6_in_26():
    assert len(ANGLES_DEGREES) == 26
    assert ANGLES_DEGREES.count(0) == 6
    assert sorted(set(ANGLES_DEGREES)) == list(range(-10, 11))


def test_draws_lie_in_their_ranges():
    draws = draw_transforms(generators(0, 1, 2), 500)

    assert draws.shape == (500, 3, 6)
    assert draws.amin(dim=(0, 1)).tolist() == [0, 0, 0, 0, 0, 0]
    assert draws.amax(dim=(0, 1)).tolist() == [8, 8, 10, 25, 4, 4]


def test_draws_of_an_image_depend_only_on_its_generator():
    alone = draw_transforms(generators(5), 50)
    in_batch = draw_transforms(generators(9, 5), 50)

    assert torch.equal(in_batch[:, 1], alone[:, 0])


def test_draws_differ_between_images_of_a_batch():
    draws = draw_transforms(generators(0, 1), 50)

    assert (draws[:, 0] != draws[:, 1]).any(dim=1).all()


def test_one_affine_sample_equals_the_transforms_applied_in_turn():
    batch = images(3)
    draws = draw_transforms(generators(0, 1, 2), 4)
    matrices = transform_matrices(draws, SIZE)

    for step in range(4):
        expected = torch.stack([steps_in_turn(batch[b], draws[step, b].tolist()) for b in range(3)])
        torch.testing.assert_close(
            apply_transforms(batch, matrices[step], OUT), expected, rtol=0, atol=1e-5
        )


def test_images_of_a_batch_are_transformed_differently():
    same = images(1).expand(2, 3, SIZE, SIZE)
    matrices = transform_matrices(draw_transforms(generators(0, 1), 1), SIZE)[0]

    out = apply_transforms(same, matrices, OUT)

    assert not torch.allclose(out[0], out[1])


def test_centred_draw_without_scale_or_rotation_pads_six_grey_pixels_each_side():
    batch = images(1)
    matrices = transform_matrices(torch.tensor([CENTRED]), SIZE)

    out = apply_transforms(batch, matrices, OUT)

    torch.testing.assert_close(out[0, :, 6 : 6 + SIZE, 6 : 6 + SIZE], batch[0], rtol=0, atol=1e-5)
    assert out[0, :, :6].eq(0.5).all()
    assert out[0, :, :, -6:].eq(0.5).all()


def test_gradients_flow_back_to_the_images():
    batch = images(2).requires_grad_(True)
    matrices = transform_matrices(draw_transforms(generators(0, 1), 1), SIZE)[0]

    apply_transforms(batch, matrices, OUT).sum().backward()

    assert batch.grad.abs().sum(dim=(1, 2, 3)).gt(0).all()


def test_matrices_have_one_two_by_three_matrix_per_step_and_image():
    draws = draw_transforms(generators(0, 1, 2), 7)

    assert transform_matrices(draws, SIZE).shape == (7, 3, 2, 3)
