"""A group's colour, ``#rrggbb``: the one check every path that takes a colour uses."""

import re

# For the OpenAPI schema and JSON Schema, whose (ECMA-262) ``$`` matches only at the very end.
COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"
# Python's ``$`` also matches before a final newline: the check itself matches the whole text.
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def is_color(value):
    """Whether ``value`` is a string reading exactly ``#rrggbb``."""
    return isinstance(value, str) and _COLOR.fullmatch(value) is not None


# Tableau 10: ten qualitative colours chosen to stay apart from each other, for groups made
# without a colour of their own.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def color_unused(used):
    """The first palette colour not among ``used`` (any case); once all are taken, the first
    of those used least, so that colours repeat as rarely as they can."""
    counts = {color: 0 for color in PALETTE}
    for color in used:
        if color.lower() in counts:
            counts[color.lower()] += 1
    return min(PALETTE, key=lambda color: counts[color])
