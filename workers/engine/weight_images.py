"""Weight kernels drawn as in "Visualizing Weights": red positive, blue negative, white zero."""

import math

import numpy as np
import torch

from workers.engine.first_layer import MAX_PIXELS_PER_WEIGHT
from workers.formats.colours import diverging_rgb

# White is a zero weight, so the gaps between kernels are grey to keep them apart.
GAP_COLOUR = (160, 160, 160)


def _check_pixels_per_weight(pixels_per_weight: int):
    """Refuse enlargements outside 1 to MAX_PIXELS_PER_WEIGHT."""
    if (
        not isinstance(pixels_per_weight, int)
        or not 1 <= pixels_per_weight <= MAX_PIXELS_PER_WEIGHT
    ):
        raise ValueError(
            f"pixels_per_weight must be 1 to {MAX_PIXELS_PER_WEIGHT}; got {pixels_per_weight}."
        )


def _scale(kernels: torch.Tensor, scale: float | None) -> float:
    """The given scale, or the largest |w| (1 for an all-zero kernel, which stays white)."""
    if scale is not None:
        if scale <= 0:
            raise ValueError(f"scale must be positive; got {scale}.")
        return float(scale)
    largest = float(kernels.abs().max())
    return largest if largest > 0 else 1.0


def kernel_image(
    kernel: torch.Tensor, *, scale: float | None = None, pixels_per_weight: int = 8
) -> np.ndarray:
    """A [kh, kw] kernel as an RGB uint8 image, each weight a square of pixels.

    scale: the |w| drawn at full colour, by default the kernel's largest; beyond it, saturated.
    """
    if kernel.dim() != 2:
        raise ValueError(f"a kernel must be [kh, kw]; got {tuple(kernel.shape)}.")
    _check_pixels_per_weight(pixels_per_weight)
    pixels = diverging_rgb((kernel.detach().float().cpu() / _scale(kernel, scale)).numpy())
    return pixels.repeat(pixels_per_weight, axis=0).repeat(pixels_per_weight, axis=1)


def kernel_strip(
    kernels: torch.Tensor,
    *,
    scale: float | None = None,
    pixels_per_weight: int = 8,
    columns: int | None = None,
) -> np.ndarray:
    """[k, kh, kw] kernels in a grid, 1 pixel apart, drawn at one scale so that they compare.

    columns: defaults to k (one row); kernel i lies in row i // columns, column i % columns.
    scale: defaults to the largest |w| of all the kernels.
    """
    if kernels.dim() != 3 or not len(kernels):
        raise ValueError(f"kernels must be a non-empty [k, kh, kw]; got {tuple(kernels.shape)}.")
    columns = len(kernels) if columns is None else columns
    if columns < 1:
        raise ValueError(f"columns must be at least 1; got {columns}.")
    shared = _scale(kernels, scale)
    tiles = [
        kernel_image(kernel, scale=shared, pixels_per_weight=pixels_per_weight)
        for kernel in kernels
    ]
    height, width = tiles[0].shape[:2]
    rows = math.ceil(len(tiles) / columns)
    strip = np.empty((rows * (height + 1) - 1, columns * (width + 1) - 1, 3), dtype=np.uint8)
    strip[:] = GAP_COLOUR
    for position, tile in enumerate(tiles):
        row, column = divmod(position, columns)
        top, left = row * (height + 1), column * (width + 1)
        strip[top : top + height, left : left + width] = tile
    return strip
