"""Lucid's standard random transforms, drawn independently for every image of a batch.

The sequence pad 12 (grey) → jitter 8 → scale → rotate → jitter 4 is one affine map from the
output back to the input pixels: the pad and both jitters (crops at integer offsets) are exact
shifts, so composing them with the scale and rotation and sampling once with grid_sample gives
the same pixels as applying the steps in turn, with one bilinear interpolation per step for
the whole batch. Unlike Lucid, the scale keeps the frame size (zooming about the centre), so
that images of one batch keep one size.
"""

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

PAD = 12
PAD_VALUE = 0.5
FIRST_JITTER = 8
SCALES = tuple(round(0.90 + 0.02 * step, 2) for step in range(11))
# Lucid adds 0° five extra times, so that a quarter of the steps are not rotated.
ANGLES_DEGREES = (*range(-10, 11), 0, 0, 0, 0, 0)
LAST_JITTER = 4


def transformed_size(size: int) -> int:
    """Side of the images the transforms make from size × size ones."""
    return size + 2 * PAD - FIRST_JITTER - LAST_JITTER


def _image_draws(generator: torch.Generator, steps: int) -> torch.Tensor:
    """One image's [steps, 6] draws (see `draw_transforms`)."""
    first = torch.randint(0, FIRST_JITTER + 1, (steps, 2), generator=generator)
    scale = torch.randint(0, len(SCALES), (steps, 1), generator=generator)
    angle = torch.randint(0, len(ANGLES_DEGREES), (steps, 1), generator=generator)
    last = torch.randint(0, LAST_JITTER + 1, (steps, 2), generator=generator)
    return torch.cat([first, scale, angle, last], dim=1)


def draw_transforms(generators: Sequence[torch.Generator], steps: int) -> torch.Tensor:
    """Random transforms [steps, B, 6], image b's drawn from generators[b] alone.

    Per step and image: first jitter x and y (0…8), index into SCALES, index into
    ANGLES_DEGREES, last jitter x and y (0…4).
    """
    return torch.stack([_image_draws(g, steps) for g in generators], dim=1)


def transform_matrices(draws: torch.Tensor, size: int) -> torch.Tensor:
    """Affine matrices [..., 2, 3] for `grid_sample` from draws [..., 6] on size × size images.

    They map normalised output coordinates (align_corners=False) to normalised coordinates
    of the input.
    """
    draws = draws.double()
    first, last = draws[..., 0:2], draws[..., 4:6]
    scale = torch.tensor(SCALES, dtype=torch.float64)[draws[..., 2].long()]
    radians = torch.tensor(ANGLES_DEGREES, dtype=torch.float64)[draws[..., 3].long()]
    radians = radians * (math.pi / 180.0)
    cos, sin = torch.cos(radians), torch.sin(radians)
    # Inverse of "rotate by the angle and scale about the centre of the jittered frame".
    inverse = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)
    inverse = inverse / scale[..., None, None]
    out = transformed_size(size)
    centre = (size + 2 * PAD - FIRST_JITTER) / 2.0
    # Output pixel coordinates p = (x + 1) * out / 2 back to input pixel coordinates.
    linear = inverse * (out / 2.0)
    offset = centre + (inverse @ (out / 2.0 + last - centre)[..., None])[..., 0] + first - PAD
    # Input pixel coordinates u back to normalised ones: 2u / size - 1.
    matrices = torch.cat([linear * (2.0 / size), (offset * (2.0 / size) - 1.0)[..., None]], -1)
    return matrices.float()


def apply_transforms(images: torch.Tensor, matrices: torch.Tensor, size: int) -> torch.Tensor:
    """[B, 3, out, out] bilinear samples of the images, grey outside them; matrices [B, 2, 3]."""
    batch, channels = images.shape[:2]
    grid = F.affine_grid(matrices, [batch, channels, size, size], align_corners=False)
    # Sampling the offset images with zero padding fills the outside with the pad colour.
    shifted = images - PAD_VALUE
    return F.grid_sample(shifted, grid, mode="bilinear", align_corners=False) + PAD_VALUE
