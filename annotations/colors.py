"""A group's colour, ``#rrggbb``: the one check every path that takes a colour uses."""

import re

# For the OpenAPI schema and JSON Schema, whose (ECMA-262) ``$`` matches only at the very end.
COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"
# Python's ``$`` also matches before a final newline: the check itself matches the whole text.
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def is_color(value):
    """Whether ``value`` is a string reading exactly ``#rrggbb``."""
    return isinstance(value, str) and _COLOR.fullmatch(value) is not None
