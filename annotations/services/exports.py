"""Exporting a taxonomy (live or a release) of one network as JSON, CSV or an HTML overview.

Every format is written as an iterator of text chunks, read from database cursors as it goes:
API downloads stream it, the command writes it to a file, and neither holds the taxonomy.
The JSON and CSV writers are ``annotations.formats.taxonomy_export``; the HTML overview is
put together here, since it reads sprite sheets and unit pictures as it goes.
"""

import base64
import itertools
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from annotations.formats.circuit_diagram import DiagramEdge, DiagramNode, circuit_diagram_svg
from annotations.formats.markdown import render_markdown
from annotations.formats.taxonomy_export import PATH_SEPARATOR, csv_chunks, json_chunks
from annotations.policies import authorize
from annotations.selectors.circuit_diagram import unit_pictures
from annotations.selectors.exports import network_layers, taxonomy_for_export
from server.errors import DomainError, ValidationFailed
from workers.addresses import UnitAddress
from workers.models import Artifact, Job, Unit
from workers.selectors.artifacts import layer_sprite

FORMATS = ("json", "csv", "html")
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


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
        chunks = json_chunks(
            taxonomy,
            layers=network_layers(network=network),
            exported_at=timezone.now(),
            include_comments=include_comments,
            report=report,
        )
    elif format == "csv":
        chunks = csv_chunks(taxonomy, total=units, report=report)
    else:
        chunks = _html_chunks(taxonomy, units, base_url.rstrip("/"), report)
    suffix = release.name if release is not None else "live"
    return Export(
        filename=f"{project.slug}-{network.name}-{suffix}.{format}",
        content_type=CONTENT_TYPES[format],
        chunks=chunks,
        units=units,
    )


def _html_chunks(taxonomy, total, base_url, report):
    network, release = taxonomy.network, taxonomy.release
    groups = taxonomy.groups()
    layers = _layers_worth_showing(taxonomy, groups)
    yield render_to_string(
        "annotations/overview_start.html",
        {
            "project": taxonomy.project,
            "network": network,
            "release": release,
            "layers": [layer for layer in layers if layer.shown],
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
        if not layer.shown:
            done += layer.channels
            continue
        yield _html_layer(taxonomy, layer, groups, members, base_url)
        done += layer.channels
        report(min(done, total), total)
    yield _html_circuits(taxonomy, layers)
    yield render_to_string("annotations/overview_end.html", {})


def _layers_worth_showing(taxonomy, groups):
    """The network's layers, each with ``shown``: whether it has a group (a unit in one, or a
    group scoped to it) or a feature-visualization rendering. The others are left out of the
    overview, which would otherwise list every empty layer of a deep network."""
    layers = network_layers(network=taxonomy.network)
    grouped = {layer for _, layer in taxonomy.unit_counts()}
    grouped |= {group["layer"] for group in groups if group["layer"]}
    rendered = set(
        Artifact.objects.filter(
            layer__network=taxonomy.network,
            unit=None,
            kind=Artifact.Kind.LAYER_SPRITE,
            job__kind=Job.Kind.FEATURE_VISUALIZATION,
        ).values_list("layer_id", flat=True)
    )
    for layer in layers:
        layer.shown = layer.name in grouped or layer.pk in rendered
    return layers


def _unit_page_link(base_url, project, network, layer):
    """``link(index)``: the URL of a unit's page in the pages (not its API card)."""
    prefix = reverse("frontend:unit", args=[project.slug, network.name, f"{layer.name}:0"])
    prefix = base_url + prefix.removesuffix("0/")
    return lambda index: f"{prefix}{index}/"


def _html_layer(taxonomy, layer, groups, members, base_url):
    sprite = _sprite(layer)
    positions = {unit["index"]: unit for unit in sprite["units"]} if sprite else {}
    link = _unit_page_link(base_url, taxonomy.project, taxonomy.network, layer)
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
                        "href": link(index),
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
    addresses = {
        UnitAddress.parse(node["unit"]) for circuit in circuits for node in circuit["nodes"]
    }
    units = {
        unit.address: unit
        for unit in Unit.objects.select_related("layer").filter(
            network=taxonomy.network,
            layer__name__in={address.layer for address in addresses},
            index__in={address.index for address in addresses},
        )
    }
    pictures = unit_pictures(units=[units[a] for a in sorted(addresses) if a in units])
    sections = []
    for circuit in circuits:
        nodes = []
        for node in circuit["nodes"]:
            address = UnitAddress.parse(node["unit"])
            unit = units.get(address)
            nodes.append(
                DiagramNode(
                    layer=address.layer,
                    layer_order=orders.get(address.layer, 0),
                    index=address.index,
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
