"""A group's path in one CSV cell (annotations/formats/taxonomy_export.py): names joined by
" / ", a name's own slash beside a space escaped as ``\\/``, and reading a cell back gives the
names written."""

import pytest

from annotations.formats.taxonomy_export import path_names, path_text


@pytest.mark.parametrize(
    "path",
    [
        ("Curves",),
        ("mixed3b", "Curves", "Early curves"),
        ("Red / green",),
        ("conv2d0", "Red / green", "Blue / yellow / black"),
        ("ON/OFF", "a/b /c"),
        ("/ leading", "trailing /", "/"),
        ("back\\slash", "back\\/slash", "ends in \\", "\\\\"),
    ],
)
def test_a_path_written_as_text_reads_back_as_the_same_names(path):
    assert path_names(path_text(path)) == path


def test_a_slash_beside_a_space_is_escaped_and_others_are_not():
    assert path_text(("conv2d0", "Red / green", "ON/OFF")) == "conv2d0 / Red \\/ green / ON/OFF"


def test_a_backslash_is_doubled_only_before_a_slash_or_a_backslash():
    assert path_text(("a\\b", "c\\/d", "e\\\\")) == "a\\b / c\\\\/d / e\\\\\\"


def test_a_hand_written_path_splits_at_each_spaced_slash_and_strips_names():
    assert path_names("  Early vision /Curves / Curve detectors ") == (
        "Early vision /Curves",
        "Curve detectors",
    )


def test_an_escaped_slash_in_a_hand_written_name_is_one_name():
    assert path_names("Red \\/ green") == ("Red / green",)


def test_an_empty_name_between_separators_reads_as_empty():
    assert path_names("Early /  / Late") == ("Early", "", "Late")
