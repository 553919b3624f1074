"""The circuits, universality links and hypotheses of a project as the JSON export (and a
release, which freezes them) writes them: units by address, groups by path, people by name.
"""

import itertools

from django.db.models import Prefetch

from annotations.models import Circuit, CircuitEdge, CircuitNode, Group, UnitLink
from annotations.selectors.hypotheses import EVIDENCE_CIRCUIT, evidence_attach


def circuit_documents(*, project, network):
    """The circuits of ``project`` on ``network`` as the JSON export writes them, by name: each
    node by its unit's address, each edge by its two nodes' addresses."""
    circuits = (
        Circuit.objects.filter(project=project, network=network)
        .select_related("created_by")
        .prefetch_related(
            Prefetch(
                "nodes",
                queryset=CircuitNode.objects.select_related("unit__layer").order_by(
                    "unit__layer__order", "unit__index"
                ),
            ),
            Prefetch(
                "edges",
                queryset=CircuitEdge.objects.select_related(
                    "source__unit__layer", "target__unit__layer"
                ).order_by(
                    "source__unit__layer__order",
                    "source__unit__index",
                    "target__unit__layer__order",
                    "target__unit__index",
                ),
            ),
        )
        .order_by("name")
    )
    return [
        {
            "name": circuit.name,
            "description": circuit.description,
            "created_by": circuit.created_by.username if circuit.created_by else None,
            "nodes": [
                {"unit": str(node.unit.address), "role": node.role} for node in circuit.nodes.all()
            ],
            "edges": [
                {
                    "source": str(edge.source.unit.address),
                    "target": str(edge.target.unit.address),
                    "magnitude": edge.magnitude,
                    "sign": edge.sign,
                    "kind": edge.kind,
                    "kernel": edge.kernel,
                    "origin": edge.origin,
                }
                for edge in circuit.edges.all()
            ],
        }
        for circuit in circuits
    ]


def link_documents(*, project):
    """Every confirmed link of ``project`` as the JSON export writes it, oldest first: a unit
    side as ``{"network", "unit"}``, a group side as ``{"group": path}``."""
    links = (
        UnitLink.objects.filter(project=project, status=UnitLink.Status.CONFIRMED)
        .select_related(
            "unit_a__layer",
            "unit_a__network",
            "unit_b__layer",
            "unit_b__network",
            "proposed_by",
            "reviewed_by",
        )
        .order_by("created_at", "id")
    )
    groups = None
    documents = []
    for link in links:
        if link.unit_a_id is not None:
            sides = [_unit_side(link.unit_a), _unit_side(link.unit_b)]
        else:
            if groups is None:
                groups = group_paths_of(project)
            sides = [{"group": groups[link.group_a_id]}, {"group": groups[link.group_b_id]}]
        documents.append(
            {
                "a": sides[0],
                "b": sides[1],
                "note": link.note,
                "correlation": link.correlation,
                "status": link.status,
                "proposed_by": link.proposed_by.username if link.proposed_by else None,
                "reviewed_by": link.reviewed_by.username if link.reviewed_by else None,
                "review_note": link.review_note,
            }
        )
    return documents


def _unit_side(unit):
    return {"network": unit.network.name, "unit": str(unit.address)}


def group_paths_of(project):
    """``{group id: [names from the root]}`` of every group of ``project``."""
    parents = {
        pk: (parent, name)
        for pk, parent, name in Group.objects.filter(project=project).values_list(
            "pk", "parent_id", "name"
        )
    }
    paths = {}
    for pk in parents:
        names, current = [], pk
        while current is not None and len(names) <= len(parents):
            current, name = parents[current]
            names.append(name)
        paths[pk] = list(reversed(names))
    return paths


def hypotheses_as_documents(hypotheses, *, chunk_size=200):
    """The documents of ``hypotheses`` (an iterable, its units, author, circuit and reviews
    loaded), their evidence read ``chunk_size`` hypotheses at a time."""
    hypotheses = iter(hypotheses)
    while chunk := list(itertools.islice(hypotheses, chunk_size)):
        evidence_attach(hypotheses=chunk)
        yield from (_hypothesis_document(hypothesis) for hypothesis in chunk)


def _hypothesis_document(hypothesis):
    """A hypothesis (its units, author, circuit and reviews loaded, and its evidence:
    ``evidence_attach``) as the JSON export writes it. Evidence is named, not only numbered:
    artifact ids mean something only on this server, so each item says what it shows."""
    return {
        "id": hypothesis.pk,
        "title": hypothesis.title,
        "text": hypothesis.text,
        "status": hypothesis.status,
        "author": hypothesis.author.username if hypothesis.author else None,
        "group": hypothesis.group_id,
        "proposed_group": hypothesis.proposed_group_id,
        "new_group": hypothesis.new_group,
        "evidence": list(hypothesis.evidence or []),
        "evidence_circuits": [
            item["circuit_name"]
            for item in hypothesis.evidence_items
            if item["kind"] == EVIDENCE_CIRCUIT
        ],
        "evidence_items": [
            {
                "kind": item["kind"],
                "artifact": item["artifact"],
                "circuit": item["circuit_name"],
                "unit": item["unit"],
                "layer": item["layer"],
                "variant": item["variant"],
                "caption": item["caption"],
            }
            for item in hypothesis.evidence_items
        ],
        "circuit": hypothesis.circuit.name if hypothesis.circuit else None,
        "units": [str(row.unit.address) for row in hypothesis.units.all()],
        "version": hypothesis.version,
        "created_at": iso_time(hypothesis.created_at),
        "accepted_at": iso_time(hypothesis.accepted_at),
        "reviews": [
            {
                "reviewer": review.reviewer.username if review.reviewer else None,
                "verdict": review.verdict,
                "comment": review.comment,
                "version": review.version,
                "created_at": iso_time(review.created_at),
            }
            for review in hypothesis.reviews.all()
        ],
    }


def iso_time(value):
    return value.isoformat() if value is not None else None
