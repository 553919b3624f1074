"""Writing unit images: PNG encoding and sprite sheets for layer grids."""

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class UnitImage:
    """One unit's picture (H×W×3 uint8 RGB) with numbers that describe it."""

    index: int
    rgb: np.ndarray
    stats: dict = field(default_factory=dict)


def _check_rgb(rgb: np.ndarray):
    """Reject anything but an H×W×3 uint8 array."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 uint8 array; got {rgb.dtype} {rgb.shape}.")


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB image; the same pixels always give the same bytes."""
    _check_rgb(rgb)
    buffer = io.BytesIO()
    # No text chunks or timestamps are written, so the bytes depend on the pixels alone.
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def sprite_sheet(
    tiles: Sequence[tuple[int, np.ndarray]],
    *,
    columns: int | None = None,
    gap: int = 1,
    background: tuple[int, int, int] = (255, 255, 255),
) -> tuple[bytes, dict]:
    """One PNG holding equal-size unit tiles in a grid, and where each unit's tile lies.

    Tiles fill rows left to right in the given order, `gap` pixels apart; `columns` defaults
    to ceil(sqrt(n)). The index gives the tile size, grid and each unit's top-left corner.
    """
    if not tiles:
        raise ValueError("a sprite sheet needs at least one tile.")
    for _, rgb in tiles:
        _check_rgb(rgb)
    tile_height, tile_width = tiles[0][1].shape[:2]
    if any(rgb.shape[:2] != (tile_height, tile_width) for _, rgb in tiles):
        raise ValueError("all tiles of a sprite sheet must have the same size.")
    if gap < 0:
        raise ValueError(f"gap must be zero or more; got {gap}.")
    columns = columns or math.ceil(math.sqrt(len(tiles)))
    if columns < 1:
        raise ValueError(f"columns must be at least 1; got {columns}.")
    rows = math.ceil(len(tiles) / columns)
    width = columns * tile_width + (columns - 1) * gap
    height = rows * tile_height + (rows - 1) * gap
    sheet = np.empty((height, width, 3), dtype=np.uint8)
    sheet[:] = background
    units = []
    for position, (index, rgb) in enumerate(tiles):
        row, column = divmod(position, columns)
        x, y = column * (tile_width + gap), row * (tile_height + gap)
        sheet[y : y + tile_height, x : x + tile_width] = rgb
        units.append({"index": index, "x": x, "y": y})
    layout = {
        "tile_width": tile_width,
        "tile_height": tile_height,
        "columns": columns,
        "rows": rows,
        "gap": gap,
        "width": width,
        "height": height,
        "units": units,
    }
    return encode_png(sheet), layout
