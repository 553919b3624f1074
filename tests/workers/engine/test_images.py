import io

import numpy as np
import pytest
from PIL import Image

from workers.engine.images import encode_png, sprite_sheet


def _tile(value, height=2, width=3):
    return np.full((height, width, 3), value, dtype=np.uint8)


def _decode(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_png_decodes_to_the_same_pixels():
    rgb = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)

    assert np.array_equal(_decode(encode_png(rgb)), rgb)


def test_png_bytes_depend_only_on_the_pixels():
    rgb = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)

    assert encode_png(rgb) == encode_png(rgb.copy())


def test_png_carries_no_text_or_time_chunks():
    png = encode_png(_tile(7))

    assert (b"tIME" in png, b"tEXt" in png) == (False, False)


def test_png_refuses_float_pixels():
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((2, 2, 3)))


def test_sprite_sheet_index_places_units_row_by_row():
    tiles = [(index, _tile(index)) for index in (10, 11, 12, 13, 14)]

    _, layout = sprite_sheet(tiles)

    assert layout == {
        "tile_width": 3,
        "tile_height": 2,
        "columns": 3,
        "rows": 2,
        "gap": 1,
        "width": 11,
        "height": 5,
        "units": [
            {"index": 10, "x": 0, "y": 0},
            {"index": 11, "x": 4, "y": 0},
            {"index": 12, "x": 8, "y": 0},
            {"index": 13, "x": 0, "y": 3},
            {"index": 14, "x": 4, "y": 3},
        ],
    }


def test_sprite_sheet_png_has_the_indexed_size():
    png, layout = sprite_sheet([(index, _tile(index)) for index in range(5)])

    assert Image.open(io.BytesIO(png)).size == (layout["width"], layout["height"])


def test_sprite_sheet_tiles_sit_where_the_index_says():
    png, layout = sprite_sheet([(index, _tile(50 + index)) for index in range(5)])
    sheet = _decode(png)

    crops = [
        sheet[unit["y"] : unit["y"] + 2, unit["x"] : unit["x"] + 3] for unit in layout["units"]
    ]
    assert [np.array_equal(crop, _tile(50 + index)) for index, crop in enumerate(crops)] == [
        True
    ] * 5


def test_sprite_sheet_fills_gaps_and_empty_cells_with_the_background():
    png, _ = sprite_sheet([(index, _tile(0)) for index in range(5)], background=(1, 2, 3))
    sheet = _decode(png)

    assert sheet[0, 3].tolist() == [1, 2, 3]
    assert sheet[4, 10].tolist() == [1, 2, 3]


def test_sprite_sheet_honours_columns_and_zero_gap():
    _, layout = sprite_sheet([(index, _tile(0)) for index in range(5)], columns=5, gap=0)

    assert (layout["columns"], layout["rows"], layout["width"], layout["height"]) == (5, 1, 15, 2)
    assert [unit["x"] for unit in layout["units"]] == [0, 3, 6, 9, 12]


def test_sprite_sheet_refuses_tiles_of_different_sizes():
    with pytest.raises(ValueError, match="same size"):
        sprite_sheet([(0, _tile(0)), (1, _tile(0, height=3))])


def test_sprite_sheet_refuses_no_tiles():
    with pytest.raises(ValueError, match="at least one tile"):
        sprite_sheet([])
