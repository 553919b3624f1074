"""The circuit diagram of a stored circuit: its nodes, edges and unit pictures gathered for
``annotations.formats.circuit_diagram``."""

import base64
import io
from collections.abc import Callable

from PIL import Image

from annotations.formats.circuit_diagram import DiagramEdge, DiagramNode, circuit_diagram_svg
from annotations.selectors.circuits import circuit_get
from server.errors import NotFound
from workers.models import Job
from workers.selectors.artifacts import layer_sprite


def circuit_diagram_get(*, project, circuit_id, unit_href: Callable[[str, str], str] | None = None):
    """``(circuit, svg_text)``: circuit ``circuit_id`` of ``project`` drawn as a standalone SVG,
    each unit showing the tile of its layer's newest feature-visualization sprite sheet as
    an embedded PNG (a placeholder where the layer is not rendered).

    unit_href: (network name, unit address) -> where its node links to; no links when None.
    """
    circuit = circuit_get(project=project, circuit_id=circuit_id)
    nodes = list(circuit.nodes.all())
    pictures = unit_pictures(units=[node.unit for node in nodes])
    diagram_nodes = [
        DiagramNode(
            layer=node.unit.layer.name,
            layer_order=node.unit.layer.order,
            index=node.unit.index,
            role=node.role,
            image=pictures.get(node.unit.pk),
            href=unit_href(circuit.network.name, str(node.unit.address)) if unit_href else None,
        )
        for node in nodes
    ]
    diagram_edges = [
        DiagramEdge(
            source=str(edge.source.unit.address),
            target=str(edge.target.unit.address),
            magnitude=edge.magnitude,
            sign=edge.sign,
            kind=edge.kind,
            kernel=edge.kernel,
        )
        for edge in circuit.edges.all()
    ]
    svg = circuit_diagram_svg(
        name=circuit.name, network=circuit.network.name, nodes=diagram_nodes, edges=diagram_edges
    )
    return circuit, svg


def unit_pictures(*, units):
    """{unit id: PNG data URI} of each unit's tile in its layer's newest feature-visualization
    sprite sheet; units of layers not rendered yet are left out. Two queries per layer."""
    by_layer = {}
    for unit in units:
        by_layer.setdefault(unit.layer_id, (unit.layer, []))[1].append(unit)
    pictures = {}
    for layer, layer_units in by_layer.values():
        try:
            _, sprite, index = layer_sprite(layer=layer, kind=Job.Kind.FEATURE_VISUALIZATION)
        except NotFound:
            continue
        positions = {tile["index"]: tile for tile in index["units"]}
        width, height = index["tile_width"], index["tile_height"]
        with sprite.file.open("rb") as handle, Image.open(handle) as sheet:
            sheet = sheet.convert("RGB")
            for unit in layer_units:
                tile = positions.get(unit.index)
                if tile is None:
                    continue
                box = (tile["x"], tile["y"], tile["x"] + width, tile["y"] + height)
                pictures[unit.pk] = _data_uri(sheet.crop(box))
    return pictures


def _data_uri(picture):
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
