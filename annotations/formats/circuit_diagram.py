"""A circuit drawn like the Circuits articles' figures, as standalone SVG text.

Layers are rows, the earliest (inputs) at the top; each node shows its unit's feature
visualization with its address and role; edges are curves, red for positive weights and blue
for negative, as wide as their magnitude relative to the circuit's largest. Kernels are drawn
as ``kernel_svg.py`` draws them.

The functions here take plain data and return text: no database, no files, no network.
"""

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from annotations.formats.kernel_svg import kernel_cells
from annotations.formats.svg_text import (
    ELLIPSIS,
    SVG_NAMESPACE,
    clean_text,
    fit_line,
    svg_document,
    text_child,
    text_width,
    wrap_lines,
)
from workers.addresses import UnitAddress

FONT = "'Helvetica Neue', Helvetica, Arial, sans-serif"
POSITIVE = "#d7191c"
NEGATIVE = "#2c7bb6"
NEUTRAL = "#9a9a9a"

IMAGE = 96  # side of a node's picture
COLUMN = 156  # horizontal pitch of nodes in a row, widened up to MAX_COLUMN for long addresses
MAX_COLUMN = 216
ROW = 250  # vertical pitch of layer rows
ROW_LABEL = 120  # left margin holding the layer names, widened up to MAX_ROW_LABEL
MAX_ROW_LABEL = 220
MARGIN = 24
LABEL_GAP = 8  # clear space between neighbouring labels
HEADER = 76
LEGEND = 84
NODE_HEIGHT = 24 + IMAGE + 64  # a row's top padding, picture, address and two lines of role
ROLE_LINES = 2
LAYER_LINES = 4  # lines of a layer name left of its row
LAYER_LINE_HEIGHT = 17
ADDRESS_SIZE, ROLE_SIZE, LAYER_SIZE = 13, 11, 14
MIN_WIDTH = 640
MIN_STROKE, MAX_STROKE = 0.75, 7.0
# White outline under a node's text, so that edges passing behind it leave it legible.
HALO = {"stroke": "#ffffff", "stroke-width": "3", "paint-order": "stroke"}


@dataclass(frozen=True)
class DiagramNode:
    """One unit of the circuit. ``image`` is a URL or data URI of its feature visualization,
    None for a placeholder; ``href`` where the node links to (its unit card), if anywhere."""

    layer: str
    layer_order: int
    index: int
    role: str = ""
    image: str | None = None
    href: str | None = None

    @property
    def address(self) -> str:
        return str(UnitAddress(self.layer, self.index))


@dataclass(frozen=True)
class DiagramEdge:
    """A weight between two nodes, named by address; ``kernel`` is its [kh][kw] values."""

    source: str
    target: str
    magnitude: float
    sign: int
    kind: str = "direct"
    kernel: Sequence[Sequence[float]] = ()

    @property
    def weight(self) -> float:
        return math.copysign(self.magnitude, self.sign) if self.sign else 0.0


def circuit_diagram_svg(
    *,
    name: str,
    network: str,
    nodes: Sequence[DiagramNode],
    edges: Sequence[DiagramEdge],
) -> str:
    """The circuit as a standalone SVG document; the same input always gives the same text.

    Raises ValueError for an edge whose ends are not among the nodes, or a repeated node.
    """
    addresses = [node.address for node in nodes]
    if len(set(addresses)) != len(addresses):
        raise ValueError("a circuit diagram lists each unit once.")
    known = set(addresses)
    for edge in edges:
        for end in (edge.source, edge.target):
            if end not in known:
                raise ValueError(f"edge end {end!r} is not a node of the circuit.")

    rows = _rows(nodes, edges)
    layout = _layout(rows)
    widest = max((len(row) for row in rows), default=0)
    width = max(MIN_WIDTH, layout.row_label + widest * layout.column + MARGIN)
    legend_top = HEADER + max(len(rows) - 1, 0) * ROW + NODE_HEIGHT
    height = legend_top + LEGEND
    positions = _positions(rows, width, layout)

    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NAMESPACE,
            "version": "1.1",
            "class": "circuit-diagram",
            "width": str(width),
            "height": str(height),
            "viewBox": f"0 0 {width} {height}",
            "font-family": FONT,
            # A group, not an image: its edges and units are focusable.
            "role": "group",
            "aria-label": f"Circuit {clean_text(name)}",
        },
    )
    text_child(svg, "title", f"{name} ({network})")
    ET.SubElement(svg, "rect", {"width": str(width), "height": str(height), "fill": "#ffffff"})
    _header(svg, name=name, network=network, rows=rows, edges=edges, width=width)
    defs = ET.SubElement(svg, "defs")
    _row_labels(svg, rows, width, layout)
    ordered = sorted(edges, key=lambda edge: (edge.magnitude, edge.source, edge.target))
    largest = max((edge.magnitude for edge in edges), default=0.0)
    edge_layer = ET.SubElement(svg, "g", {"class": "edges", "fill": "none"})
    for number, edge in enumerate(ordered):
        symbol_id = f"kernel-{number}"
        if edge.kernel:
            symbol = ET.SubElement(defs, "symbol", {"id": symbol_id})
            kernel_cells(symbol, edge.kernel)
        _edge(edge_layer, edge, positions, layout, largest, symbol_id if edge.kernel else None)
    node_layer = ET.SubElement(svg, "g", {"class": "nodes"})
    for row in rows:
        for node in row:
            _node(node_layer, node, positions[node.address], layout)
    _legend(svg, width=width, top=legend_top, largest=largest, edges=edges)
    return svg_document(svg)


def address_label(layer: str, index: int, width: float) -> str:
    """A node's address in ``width`` pixels: whole if it fits, else the layer's name cut short
    ("features.2.dep…:15") and the index always whole."""
    whole = str(UnitAddress(layer, index))
    if text_width(whole, ADDRESS_SIZE, bold=True) <= width:
        return whole
    tail = f"{ELLIPSIS}:{index}"
    for end in range(len(layer) - 1, 0, -1):
        label = layer[:end] + tail
        if text_width(label, ADDRESS_SIZE, bold=True) <= width:
            return label
    return fit_line(whole, ADDRESS_SIZE, width, bold=True)


@dataclass(frozen=True)
class _Layout:
    """Horizontal pitch of the nodes in a row, and the left margin holding the layer names:
    wider than the defaults where addresses and layer names are long, up to a limit past
    which labels are cut short."""

    column: float
    row_label: float

    @property
    def label_width(self) -> float:
        """The room of each label under a node."""
        return self.column - LABEL_GAP

    @property
    def layer_width(self) -> float:
        """The room of a layer's name left of its row."""
        return self.row_label - MARGIN - 2 * LABEL_GAP


def _layout(rows):
    nodes = [node for row in rows for node in row]
    widest_address = max(
        (text_width(node.address, ADDRESS_SIZE, bold=True) for node in nodes), default=0.0
    )
    widest_layer = max(
        (text_width(row[0].layer, LAYER_SIZE, bold=True) for row in rows), default=0.0
    )
    column = min(max(COLUMN, math.ceil(widest_address + LABEL_GAP)), MAX_COLUMN)
    row_label = min(max(ROW_LABEL, math.ceil(widest_layer + MARGIN + 2 * LABEL_GAP)), MAX_ROW_LABEL)
    return _Layout(column=column, row_label=row_label)


def _rows(nodes, edges):
    """Nodes grouped by layer (earliest first), ordered within a row to keep edges short:
    by unit index, then a few sweeps placing each node under the mean of its neighbours."""
    by_layer = {}
    for node in sorted(nodes, key=lambda node: (node.layer_order, node.layer, node.index)):
        by_layer.setdefault((node.layer_order, node.layer), []).append(node)
    rows = list(by_layer.values())
    neighbours = {node.address: set() for node in nodes}
    for edge in edges:
        neighbours[edge.source].add(edge.target)
        neighbours[edge.target].add(edge.source)
    for sweep in range(4):
        order = range(1, len(rows)) if sweep % 2 == 0 else range(len(rows) - 2, -1, -1)
        for number in order:
            placed = {
                node.address: _centred(position, len(row))
                for row in rows
                if row is not rows[number]
                for position, node in enumerate(row)
            }
            rows[number] = _by_barycentre(rows[number], neighbours, placed)
    return rows


def _centred(position, count):
    return position - (count - 1) / 2


def _by_barycentre(row, neighbours, placed):
    def key(item):
        position, node = item
        seen = [placed[other] for other in sorted(neighbours[node.address]) if other in placed]
        mean = sum(seen) / len(seen) if seen else _centred(position, len(row))
        return (mean, position)

    return [node for _, node in sorted(enumerate(row), key=key)]


def _positions(rows, width, layout):
    """Top-left corner of each node's picture, rows centred in the space right of the labels."""
    span = width - layout.row_label - MARGIN
    positions = {}
    for number, row in enumerate(rows):
        left = layout.row_label + (span - len(row) * layout.column) / 2
        left += (layout.column - IMAGE) / 2
        top = HEADER + number * ROW + 24
        for position, node in enumerate(row):
            positions[node.address] = (round(left + position * layout.column, 1), top)
    return positions


def _header(svg, *, name, network, rows, edges, width):
    room = width - 2 * MARGIN
    title = fit_line(clean_text(name), 20, room, bold=True)
    text_child(
        svg, "text", title, {"x": str(MARGIN), "y": "34", "font-size": "20", "font-weight": "bold"}
    )
    units = sum(len(row) for row in rows)
    summary = (
        f"{network} · {units} unit{'s' if units != 1 else ''} in {len(rows)} "
        f"layer{'s' if len(rows) != 1 else ''} · {len(edges)} "
        f"connection{'s' if len(edges) != 1 else ''} · inputs at the top"
    )
    text_child(
        svg,
        "text",
        fit_line(clean_text(summary), 13, room),
        {"x": str(MARGIN), "y": "56", "font-size": "13", "fill": "#555555"},
    )


def _row_labels(svg, rows, width, layout):
    """Each layer's name left of its row, wrapped at its dots to the margin's width, the whole
    name in a tooltip."""
    labels = ET.SubElement(
        svg, "g", {"class": "layers", "font-size": str(LAYER_SIZE), "fill": "#333333"}
    )
    for number, row in enumerate(rows):
        top = HEADER + number * ROW
        if number:
            ET.SubElement(
                labels,
                "line",
                {
                    "x1": str(MARGIN),
                    "x2": str(width - MARGIN),
                    "y1": str(top),
                    "y2": str(top),
                    "stroke": "#e4e4e4",
                },
            )
        name = clean_text(row[0].layer)
        lines = wrap_lines(name, LAYER_SIZE, layout.layer_width, lines=LAYER_LINES, bold=True)
        label = ET.SubElement(labels, "g", {"class": "layer", "data-layer": name})
        text_child(label, "title", name)
        first = top + 24 + IMAGE / 2 + 5 - (len(lines) - 1) * LAYER_LINE_HEIGHT / 2
        for number_in_label, line in enumerate(lines):
            y = first + number_in_label * LAYER_LINE_HEIGHT
            text_child(
                label, "text", line, {"x": str(MARGIN), "y": f"{y:g}", "font-weight": "bold"}
            )


def _curve(positions, layout, source, target):
    """Path data of a curve from ``source`` to ``target``: out of the bottom of the upper
    picture into the top of the lower one; across more than one row, through the gap between
    pictures of the row half way, nearest the straight line; within a row, an arc above it."""
    (x1, y1), (x2, y2) = positions[source], positions[target]
    start_x, end_x = x1 + IMAGE / 2, x2 + IMAGE / 2
    if y1 == y2:
        lift = y1 - ROW / 3
        return f"M {start_x:g} {y1} C {start_x:g} {lift:g}, {end_x:g} {lift:g}, {end_x:g} {y1}"
    if y1 > y2:
        (start_x, y1), (end_x, y2) = (end_x, y2), (start_x, y1)
    start_y, end_y = y1 + IMAGE, y2
    rows_between = sorted({y for _, y in positions.values() if y1 < y < y2})
    if not rows_between:
        bend = (end_y - start_y) / 2
        return (
            f"M {start_x:g} {start_y:g} C {start_x:g} {start_y + bend:g}, "
            f"{end_x:g} {end_y - bend:g}, {end_x:g} {end_y:g}"
        )
    row_y = rows_between[len(rows_between) // 2]
    lefts = sorted(x for x, y in positions.values() if y == row_y)
    gap = (layout.column - IMAGE) / 2
    gaps = [lefts[0] - gap] + [left + IMAGE + gap for left in lefts]
    middle = (start_x + end_x) / 2
    via_x = min(gaps, key=lambda x: (abs(x - middle), x))
    via_y = row_y + IMAGE / 2
    bend = (via_y - start_y) / 2
    return (
        f"M {start_x:g} {start_y:g} C {start_x:g} {start_y + bend:g}, "
        f"{via_x:g} {via_y - bend:g}, {via_x:g} {via_y:g} "
        f"S {end_x:g} {end_y - (end_y - via_y) / 2:g}, {end_x:g} {end_y:g}"
    )


def _edge(parent, edge, positions, layout, largest, symbol_id):
    path = _curve(positions, layout, edge.source, edge.target)
    colour = POSITIVE if edge.sign > 0 else NEGATIVE if edge.sign < 0 else NEUTRAL
    share = edge.magnitude / largest if largest > 0 else 0.0
    stroke = MIN_STROKE + (MAX_STROKE - MIN_STROKE) * share
    weight = f"{edge.weight:+.4g}"
    attributes = {
        "class": "edge",
        "data-source": edge.source,
        "data-target": edge.target,
        "data-weight": f"{edge.weight:.6g}",
        "data-magnitude": f"{edge.magnitude:.6g}",
        "data-sign": str(edge.sign),
        "data-kind": clean_text(edge.kind),
        "tabindex": "0",
        "aria-label": f"{edge.source} to {edge.target}, weight {weight}",
    }
    if symbol_id:
        attributes["data-kernel"] = f"#{symbol_id}"
        attributes["data-kernel-values"] = json.dumps(
            [[float(f"{value:.4g}") for value in row] for row in edge.kernel],
            separators=(",", ":"),
        )
    group = ET.SubElement(parent, "g", attributes)
    text_child(group, "title", f"{edge.source} → {edge.target}: {weight} ({clean_text(edge.kind)})")
    line = {
        "d": path,
        "stroke": colour,
        "stroke-width": f"{stroke:.2f}",
        "stroke-opacity": "0.8",
        "stroke-linecap": "round",
    }
    if edge.kind != "direct":
        line["stroke-dasharray"] = f"{2 * stroke + 4:.1f} {stroke + 3:.1f}"
    ET.SubElement(group, "path", line)
    # A wide invisible stroke along the same curve, so that thin edges can be clicked.
    ET.SubElement(
        group,
        "path",
        {"d": path, "stroke": "#000000", "stroke-opacity": "0", "stroke-width": "12"},
    )


def _node(parent, node, position, layout):
    x, y = position
    attributes = {
        "class": "node",
        "data-address": node.address,
        "data-layer": clean_text(node.layer),
        "data-index": str(node.index),
        "transform": f"translate({x:g} {y})",
    }
    if node.href:
        group = ET.SubElement(parent, "a", {"href": clean_text(node.href), **attributes})
    else:
        group = ET.SubElement(parent, "g", attributes)
    tooltip = f"{node.address}: {node.role}" if node.role else node.address
    text_child(group, "title", tooltip)
    if node.image:
        ET.SubElement(
            group,
            "image",
            {
                "href": clean_text(node.image),
                "width": str(IMAGE),
                "height": str(IMAGE),
                "preserveAspectRatio": "xMidYMid slice",
            },
        )
        frame = {"fill": "none", "stroke": "#777777"}
    else:
        frame = {"class": "placeholder", "fill": "#f1f1f1", "stroke": "#b5b5b5"}
        frame["stroke-dasharray"] = "4 3"
    ET.SubElement(group, "rect", {"width": str(IMAGE), "height": str(IMAGE), **frame})
    if not node.image:
        text_child(
            group,
            "text",
            "not rendered",
            {"x": str(IMAGE / 2), "y": str(IMAGE / 2 + 4), "font-size": "11", "fill": "#888888"},
        ).set("text-anchor", "middle")
    text_child(
        group,
        "text",
        address_label(clean_text(node.layer), node.index, layout.label_width),
        {
            "class": "address",
            "x": str(IMAGE / 2),
            "y": str(IMAGE + 16),
            "font-size": str(ADDRESS_SIZE),
            "font-weight": "bold",
            "text-anchor": "middle",
            "fill": "#222222",
            **HALO,
        },
    )
    role_lines = wrap_lines(clean_text(node.role), ROLE_SIZE, layout.label_width, lines=ROLE_LINES)
    for line_number, line in enumerate(role_lines):
        text_child(
            group,
            "text",
            line,
            {
                "class": "role",
                "x": str(IMAGE / 2),
                "y": str(IMAGE + 32 + 14 * line_number),
                "font-size": str(ROLE_SIZE),
                "text-anchor": "middle",
                "fill": "#555555",
                **HALO,
            },
        )


def _legend(svg, *, width, top, largest, edges):
    legend = ET.SubElement(svg, "g", {"class": "legend", "font-size": "12", "fill": "#333333"})
    ET.SubElement(
        legend,
        "line",
        {"x1": str(MARGIN), "x2": str(width - MARGIN), "y1": str(top), "y2": str(top)},
    ).set("stroke", "#cccccc")
    y = top + 30
    entries = [("positive weight", POSITIVE, MAX_STROKE, None)]
    entries.append(("negative weight", NEGATIVE, MAX_STROKE, None))
    if any(edge.kind != "direct" for edge in edges):
        entries.append(("expanded (across layers)", NEUTRAL, 2.0, "6 4"))
    x = MARGIN
    for label, colour, stroke, dashes in entries:
        x = _legend_entry(legend, x, y, label, colour, stroke, dashes)
    y += 26
    caption = "width ∝ |weight|:"
    text_child(legend, "text", caption, {"x": str(MARGIN), "y": str(y)})
    x = MARGIN + text_width(caption, 12) + LABEL_GAP
    for share in (0.1, 0.5, 1.0):
        stroke = MIN_STROKE + (MAX_STROKE - MIN_STROKE) * share
        label = f"{largest * share:.3g}"
        x = _legend_entry(legend, x, y, label, "#555555", stroke, None)


def _legend_entry(legend, x, y, label, colour, stroke, dashes):
    """A sample line and its label from ``x``; returns where the next entry may start."""
    line = {
        "x1": str(x),
        "x2": str(x + 36),
        "y1": str(y - 4),
        "y2": str(y - 4),
        "stroke": colour,
        "stroke-width": f"{stroke:.2f}",
        "stroke-linecap": "round",
    }
    if dashes:
        line["stroke-dasharray"] = dashes
    ET.SubElement(legend, "line", line)
    text_child(legend, "text", label, {"x": f"{x + 44:g}", "y": str(y)})
    return x + 44 + text_width(label, 12) + 3 * LABEL_GAP
