"""Exporting a taxonomy (live or a release) of one network as JSON, CSV or an HTML overview.

Every format is written as an iterator of text chunks, read from database cursors as it goes:
API downloads stream it, the command writes it to a file, and neither holds the taxonomy.
The JSON document follows ``annotations/schemas/taxonomy-export-v1.schema.json``.
"""

import base64
import io
import itertools
import json
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone

from annotations.formats.csv_cells import CsvWriter
from annotations.policies import authorize
from annotations.selectors.circuit_diagram import unit_pictures
from annotations.selectors.exports import PATH_SEPARATOR, network_layers, taxonomy_for_export
from annotations.services.circuit_diagram import DiagramEdge, DiagramNode, circuit_diagram_svg
from annotations.services.markdown import render_markdown
from server.errors import DomainError, ValidationFailed
from workers.models import Job, Unit
from workers.selectors.artifacts import layer_sprite

FORMATS = ("json", "csv", "html")
FORMAT_NAME = "neuron-atlas.taxonomy"
FORMAT_VERSION = 1
CSV_HEADER = ("network", "layer", "unit", "group_path", "status", "changed_by", "changed_at")
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
ROWS_PER_CHUNK = 1000


@dataclass(frozen=True)
class Export:
    """An export ready to be written: its file name, content type and text chunks."""

    filename: str
    content_type: str
    chunks: object
    units: int


def taxonomy_export(
    *,
    project,
    network,
    actor,
    format,
    release=None,
    include_comments=False,
    base_url="",
    progress=None,
):
    """Export the taxonomy of ``project`` on ``network`` (live, or frozen in ``release``).

    include_comments: add the comments on the network's units, groups and hypotheses (JSON).
    base_url: where the service runs, for the HTML overview's links to each unit.
    progress: ``progress(units written, units in total or None)``, called per chunk.
    """
    authorize(actor=actor, action="taxonomy.export", obj=project)
    if format not in FORMATS:
        raise ValidationFailed(
            f"Unknown export format {format!r}.", fields={"format": [f"One of: {FORMATS}."]}
        )
    taxonomy = taxonomy_for_export(project=project, network=network, release=release)
    units = Unit.objects.filter(network=network).count()
    report = progress or (lambda done, total: None)
    if format == "json":
        chunks = _json_chunks(taxonomy, include_comments, report)
    elif format == "csv":
        chunks = _csv_chunks(taxonomy, units, report)
    else:
        chunks = _html_chunks(taxonomy, units, base_url.rstrip("/"), report)
    suffix = release.name if release is not None else "live"
    return Export(
        filename=f"{project.slug}-{network.name}-{suffix}.{format}",
        content_type=CONTENT_TYPES[format],
        chunks=chunks,
        units=units,
    )


def _dump(value):
    return json.dumps(value, ensure_ascii=False)


def network_document(network):
    return {
        "name": network.name,
        "arch": network.arch,
        "source": network.source,
        "weights_sha256": network.weights_sha256,
        "random_seed": network.random_seed,
        "input_size": network.input_size,
    }


def _json_chunks(taxonomy, include_comments, report):
    project, network, release = taxonomy.project, taxonomy.network, taxonomy.release
    counts = taxonomy.unit_counts()
    head = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "project": {"slug": project.slug, "name": project.name},
        "release": None
        if release is None
        else {
            "name": release.name,
            "notes": release.notes,
            "created_by": release.created_by.username if release.created_by else None,
            "created_at": release.created_at.isoformat(),
        },
        "network": network_document(network),
    }
    yield "{\n" + ",\n".join(f"{_dump(key)}: {_dump(value)}" for key, value in head.items())
    layers = [
        {
            "name": layer.name,
            "kind": layer.kind,
            "order": layer.order,
            "channels": layer.channels,
            "height": layer.height,
            "width": layer.width,
        }
        for layer in network_layers(network=network)
    ]
    yield ',\n"layers": ' + _list_lines(layers)
    groups = []
    for group in taxonomy.groups():
        per_layer = {
            layer["name"]: counts[(group["id"], layer["name"])]
            for layer in layers
            if (group["id"], layer["name"]) in counts
        }
        groups.append({**group, "unit_counts": per_layer})
    yield ',\n"groups": ' + _list_lines(groups)
    yield ',\n"units": ['
    done = 0
    rows = taxonomy.assignments()
    while batch := list(itertools.islice(rows, ROWS_PER_CHUNK)):
        lines = (
            _dump(
                {
                    "layer": layer,
                    "unit": index,
                    "group": group_id,
                    "note": note,
                    "assigned_by": assigned_by,
                    "assigned_at": assigned_at.isoformat(),
                }
            )
            for _, layer, index, group_id, note, assigned_by, assigned_at in batch
        )
        yield ("," if done else "") + "\n" + ",\n".join(lines)
        done += len(batch)
        report(done, None)
    yield "\n]"
    yield ',\n"hypotheses": '
    yield from _stream_list(taxonomy.hypotheses())
    yield ',\n"circuits": ' + _list_lines(taxonomy.circuits())
    yield ',\n"links": ' + _list_lines(taxonomy.links())
    if include_comments:
        yield ',\n"comments": '
        yield from _stream_list(taxonomy.comments())
    yield "\n}\n"


def _stream_list(items):
    """A JSON list of ``items`` (an iterator), one per line, ``ROWS_PER_CHUNK`` per chunk."""
    items = iter(items)
    first = True
    while batch := list(itertools.islice(items, ROWS_PER_CHUNK)):
        yield ("[\n" if first else ",\n") + ",\n".join(_dump(item) for item in batch)
        first = False
    yield "[]" if first else "\n]"


def _list_lines(items):
    if not items:
        return "[]"
    return "[\n" + ",\n".join(_dump(item) for item in items) + "\n]"


def _csv_chunks(taxonomy, total, report):
    paths = {group["id"]: PATH_SEPARATOR.join(group["path"]) for group in taxonomy.groups()}
    under_review = taxonomy.units_under_review()
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    writer.writerow(CSV_HEADER)
    done = 0
    for _, layer, index, assignment in taxonomy.units():
        if (layer, index) in under_review:
            status = "under_review"
        else:
            status = "labelled" if assignment else "unlabelled"
        if assignment is None:
            writer.writerow((taxonomy.network.name, layer, index, "", status, "", ""))
        else:
            _, _, _, group_id, _, assigned_by, assigned_at = assignment
            writer.writerow(
                (
                    taxonomy.network.name,
                    layer,
                    index,
                    paths.get(group_id, ""),
                    status,
                    assigned_by or "",
                    assigned_at.isoformat(),
                )
            )
        done += 1
        if done % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            report(done, total)
    yield buffer.getvalue()
    report(done, total)


def _html_chunks(taxonomy, total, base_url, report):
    network, release = taxonomy.network, taxonomy.release
    layers = network_layers(network=network)
    groups = taxonomy.groups()
    yield render_to_string(
        "annotations/overview_start.html",
        {
            "project": taxonomy.project,
            "network": network,
            "release": release,
            "layers": layers,
            "exported_at": timezone.now(),
        },
    )
    by_layer = itertools.groupby(taxonomy.assignments(), key=lambda row: row[1])
    pending = next(by_layer, None)
    done = 0
    for layer in layers:
        members = {}
        if pending is not None and pending[0] == layer.name:
            for _, _, index, group_id, *_ in pending[1]:
                members.setdefault(group_id, []).append(index)
            pending = next(by_layer, None)
        yield _html_layer(taxonomy, layer, groups, members, base_url)
        done += layer.channels
        report(min(done, total), total)
    yield _html_circuits(taxonomy, layers)
    yield render_to_string("annotations/overview_end.html", {})


def _html_layer(taxonomy, layer, groups, members, base_url):
    sprite = _sprite(layer)
    positions = {unit["index"]: unit for unit in sprite["units"]} if sprite else {}
    link = f"{base_url}/api/v1/networks/{taxonomy.network.name}/units/{layer.name}:{{}}/card/"
    sections = []
    for group in groups:
        indices = members.get(group["id"], [])
        if not indices and group["layer"] != layer.name:
            continue
        sections.append(
            {
                "group": group,
                "path": PATH_SEPARATOR.join(group["path"]),
                "description_html": render_markdown(group["description"]),
                "size": len(indices),
                "share": 100.0 * len(indices) / layer.channels if layer.channels else 0.0,
                "units": [
                    {
                        "index": index,
                        "href": link.format(index),
                        "x": positions[index]["x"] if index in positions else None,
                        "y": positions[index]["y"] if index in positions else None,
                    }
                    for index in indices
                ],
            }
        )
    labelled = sum(len(indices) for indices in members.values())
    return render_to_string(
        "annotations/overview_layer.html",
        {
            "layer": layer,
            "sections": sections,
            "labelled": labelled,
            "unlabelled": layer.channels - labelled,
            "sprite": sprite,
        },
    )


def _html_circuits(taxonomy, layers):
    """A section per circuit with its diagram (each unit's picture from its layer's sprite
    sheet) and its weights as a table; then the confirmed universality links."""
    circuits = taxonomy.circuits()
    orders = {layer.name: layer.order for layer in layers}
    addresses = {node["unit"] for circuit in circuits for node in circuit["nodes"]}
    units = {
        f"{unit.layer.name}:{unit.index}": unit
        for unit in Unit.objects.select_related("layer").filter(
            network=taxonomy.network,
            layer__name__in={address.rpartition(":")[0] for address in addresses},
            index__in={int(address.rpartition(":")[2]) for address in addresses},
        )
    }
    pictures = unit_pictures(units=[units[a] for a in sorted(addresses) if a in units])
    sections = []
    for circuit in circuits:
        nodes = []
        for node in circuit["nodes"]:
            layer, _, index = node["unit"].rpartition(":")
            unit = units.get(node["unit"])
            nodes.append(
                DiagramNode(
                    layer=layer,
                    layer_order=orders.get(layer, 0),
                    index=int(index),
                    role=node["role"],
                    image=pictures.get(unit.pk) if unit else None,
                )
            )
        edges = [
            DiagramEdge(
                source=edge["source"],
                target=edge["target"],
                magnitude=edge["magnitude"],
                sign=edge["sign"],
                kind=edge["kind"],
                kernel=edge["kernel"],
            )
            for edge in circuit["edges"]
        ]
        svg = circuit_diagram_svg(
            name=circuit["name"], network=taxonomy.network.name, nodes=nodes, edges=edges
        )
        sections.append(
            {
                "name": circuit["name"],
                "description_html": render_markdown(circuit["description"]),
                # Inline in HTML: the standalone document's XML declaration would be text.
                "svg": svg.split("?>", 1)[1] if svg.startswith("<?xml") else svg,
                "nodes": circuit["nodes"],
                "edges": circuit["edges"],
            }
        )
    links = [
        {**link, "a_label": _side_label(link["a"]), "b_label": _side_label(link["b"])}
        for link in taxonomy.links()
    ]
    return render_to_string(
        "annotations/overview_circuits.html", {"circuits": sections, "links": links}
    )


def _side_label(side):
    if "unit" in side:
        return f"{side['network']}/{side['unit']}"
    return PATH_SEPARATOR.join(side["group"])


def _sprite(layer):
    """The layer's newest feature-visualization sprite sheet as a data URI with its tile
    positions, or None when the layer has not been rendered."""
    try:
        _, artifact, index = layer_sprite(layer=layer, kind=Job.Kind.FEATURE_VISUALIZATION)
    except DomainError:
        return None
    with artifact.file.open("rb") as handle:
        encoded = base64.b64encode(handle.read()).decode("ascii")
    return {
        "data_uri": f"data:{artifact.content_type};base64,{encoded}",
        "tile_width": index["tile_width"],
        "tile_height": index["tile_height"],
        "units": index["units"],
    }
