"""A convolution kernel drawn as an SVG heatmap in the colours of
``workers/engine/weight_images.py``: blue (−1) through white (0) to red (+1) of the kernel's
largest |w|, each weight's value in its tooltip."""

import xml.etree.ElementTree as ET
from collections.abc import Sequence

import numpy as np

from annotations.formats.svg_text import SVG_NAMESPACE, svg_document, text_child
from workers.formats.colours import diverging_rgb

KERNEL_CELL = 12


def kernel_heatmap_svg(kernel: Sequence[Sequence[float]], *, cell: int = KERNEL_CELL) -> str:
    """A [kh][kw] kernel as a standalone SVG heatmap, one square of ``cell`` pixels per weight,
    each with a tooltip giving its value."""
    svg = ET.Element("svg", {"xmlns": SVG_NAMESPACE, "version": "1.1", "class": "kernel"})
    height, width = kernel_cells(svg, kernel, cell=cell)
    svg.set("width", str(width))
    svg.set("height", str(height))
    return svg_document(svg)


def kernel_colours(kernel: Sequence[Sequence[float]]) -> list[list[tuple[int, int, int]]]:
    """Each weight's RGB: w / max|w| from blue (−1) through white (0) to red (+1), rounded
    as ``workers.engine.weight_images.kernel_image`` rounds it; an all-zero kernel is white."""
    largest = max((abs(value) for row in kernel for value in row), default=0.0)
    scale = largest if largest > 0 else 1.0
    return [
        [
            tuple(int(channel) for channel in colour)
            for colour in diverging_rgb(np.divide(row, scale))
        ]
        for row in kernel
    ]


def kernel_cells(parent, kernel, *, cell=KERNEL_CELL):
    """Squares of ``kernel`` into ``parent`` with its viewBox set; returns (height, width)."""
    height, width = len(kernel) * cell, max((len(row) for row in kernel), default=0) * cell
    parent.set("viewBox", f"0 0 {width} {height}")
    for row, (values, colours) in enumerate(zip(kernel, kernel_colours(kernel), strict=True)):
        for column, (value, colour) in enumerate(zip(values, colours, strict=True)):
            square = ET.SubElement(
                parent,
                "rect",
                {
                    "x": str(column * cell),
                    "y": str(row * cell),
                    "width": str(cell),
                    "height": str(cell),
                    "fill": "#{:02x}{:02x}{:02x}".format(*colour),
                },
            )
            text_child(square, "title", f"{value:+.4g}")
    return height, width
