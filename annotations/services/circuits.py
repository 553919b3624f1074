"""Use cases on circuits: create, edit and delete a circuit, add and remove its nodes and edges,
and grow it from a node by the engine's strongest weights.

Every write names the circuit version the client read (If-Match): the version check and the
bump are one conditional UPDATE at the start of the transaction, so two edits of one circuit
never interleave. Weights are computed before the transaction (``circuit_weights``).
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from annotations.models import Circuit, CircuitEdge, CircuitNode, ProjectNetwork
from annotations.policies import authorize
from annotations.services.assignments import unit_label
from annotations.services.circuit_weights import (
    strongest_inputs,
    strongest_outputs,
    weight_between,
    weight_origin,
)
from annotations.services.events import event_record
from server.concurrency import stale
from server.errors import Conflict, NotFound, ValidationFailed
from workers.models import Layer, Unit

EDITABLE = frozenset({"name", "description"})
MAX_GROW = 50
DIRECTIONS = ("inputs", "outputs")


def circuit_create(*, project, network, actor, name, description=""):
    """Create an empty circuit on ``network`` (a network the project studies)."""
    authorize(actor=actor, action="circuit.create", obj=project)
    if not ProjectNetwork.objects.filter(project=project, network=network).exists():
        raise ValidationFailed(
            "This project does not study that network.", fields={"network": ["Unknown."]}
        )
    values = _clean({"name": name, "description": description})
    try:
        with transaction.atomic():
            circuit = Circuit.objects.create(
                project=project, network=network, created_by=actor, **values
            )
            _record(circuit, actor, "circuit.created", after={**values, "network": network.name})
    except IntegrityError as error:
        raise _name_taken(values["name"]) from error
    return circuit


def circuit_update(*, circuit, actor, expected_version, **changes):
    """Edit the ``name`` and/or ``description`` of ``circuit``."""
    if not changes or set(changes) - EDITABLE:
        raise TypeError(f"circuit_update edits some of {sorted(EDITABLE)}, got {sorted(changes)}")
    authorize(actor=actor, action="circuit.update", obj=circuit)
    changes = _clean(changes)
    before = {field: getattr(circuit, field) for field in changes}
    name = changes.get("name", circuit.name)
    try:
        with transaction.atomic():
            _bump(circuit, expected_version, **changes)
            _record(
                circuit,
                actor,
                "circuit.renamed" if before.get("name", name) != name else "circuit.updated",
                before=before,
                after=changes,
            )
    except IntegrityError as error:
        raise _name_taken(changes["name"]) from error
    return circuit


def circuit_delete(*, circuit, actor, expected_version):
    """Delete ``circuit`` with its nodes and edges (its author, reviewers and owners)."""
    authorize(actor=actor, action="circuit.delete", obj=circuit)
    with transaction.atomic():
        _bump(circuit, expected_version)
        _record(circuit, actor, "circuit.deleted", before=circuit_snapshot(circuit))
        Circuit.objects.filter(pk=circuit.pk).delete()


def circuit_node_add(*, circuit, unit, actor, expected_version, role=""):
    """Add ``unit`` (of the circuit's network) as a node with its ``role``."""
    authorize(actor=actor, action="circuit.update", obj=circuit)
    _check_unit(circuit, unit)
    with transaction.atomic():
        _bump(circuit, expected_version)
        if CircuitNode.objects.filter(circuit=circuit, unit=unit).exists():
            raise Conflict(
                f"{unit_label(unit)} is already in this circuit.",
                code="node_exists",
                fields={"unit": ["Already a node."]},
            )
        node = CircuitNode.objects.create(circuit=circuit, unit=unit, role=role)
        _record(
            circuit, actor, "circuit.node_added", after={"unit": unit_label(unit), "role": role}
        )
    return node


def circuit_node_update(*, circuit, node, actor, expected_version, role):
    """Rewrite what ``node`` does in the circuit."""
    authorize(actor=actor, action="circuit.update", obj=circuit)
    with transaction.atomic():
        _bump(circuit, expected_version)
        before = node.role
        CircuitNode.objects.filter(pk=node.pk).update(role=role)
        node.role = role
        _record(
            circuit,
            actor,
            "circuit.node_updated",
            before={"unit": unit_label(node.unit), "role": before},
            after={"unit": unit_label(node.unit), "role": role},
        )
    return node


def circuit_node_remove(*, circuit, node, actor, expected_version):
    """Remove ``node`` and every edge that touches it."""
    authorize(actor=actor, action="circuit.update", obj=circuit)
    with transaction.atomic():
        _bump(circuit, expected_version)
        edges = CircuitEdge.objects.filter(circuit=circuit).filter(
            source=node
        ) | CircuitEdge.objects.filter(circuit=circuit, target=node)
        removed = edges.count()
        edges.delete()
        CircuitNode.objects.filter(pk=node.pk).delete()
        _record(
            circuit,
            actor,
            "circuit.node_removed",
            before={"unit": unit_label(node.unit), "role": node.role, "edges": removed},
        )


def circuit_edge_add(*, circuit, source, target, actor, expected_version):
    """Join node ``source`` to node ``target`` (a later layer) by the engine's weight."""
    authorize(actor=actor, action="circuit.update", obj=circuit)
    if source.circuit_id != circuit.pk or target.circuit_id != circuit.pk:
        raise ValidationFailed(
            "Both nodes must be in this circuit.", fields={"source": ["Unknown."]}
        )
    _require_version(circuit, expected_version)
    weight = weight_between(
        network=circuit.network, source_unit=source.unit, target_unit=target.unit
    )
    with transaction.atomic():
        _bump(circuit, expected_version)
        if CircuitEdge.objects.filter(circuit=circuit, source=source, target=target).exists():
            raise Conflict(
                f"{unit_label(source.unit)} → {unit_label(target.unit)} is already an edge.",
                code="edge_exists",
                fields={"target": ["Already joined."]},
            )
        edge = _edge(circuit, source, target, weight)
        edge.save()
        _record(circuit, actor, "circuit.edge_added", after=_edge_event(edge))
    return edge


def circuit_edge_remove(*, circuit, edge, actor, expected_version):
    authorize(actor=actor, action="circuit.update", obj=circuit)
    with transaction.atomic():
        _bump(circuit, expected_version)
        before = _edge_event(edge)
        CircuitEdge.objects.filter(pk=edge.pk).delete()
        _record(circuit, actor, "circuit.edge_removed", before=before)


def circuit_grow(*, circuit, node, actor, expected_version, direction="inputs", k=3, threshold=0.0):
    """From ``node``, add the ``k`` units of the layer before (``inputs``) or after
    (``outputs``) with the largest weights by L2 norm, at least ``threshold``: new nodes for
    units not yet in the circuit, and an edge for each. Returns (nodes added, edges added)."""
    authorize(actor=actor, action="circuit.update", obj=circuit)
    problems = {}
    if direction not in DIRECTIONS:
        problems["direction"] = [f"One of {', '.join(DIRECTIONS)}."]
    if not 1 <= int(k) <= MAX_GROW:
        problems["k"] = [f"From 1 to {MAX_GROW}."]
    if threshold < 0:
        problems["threshold"] = ["At least 0."]
    if node.circuit_id != circuit.pk:
        problems["node"] = ["Not in this circuit."]
    if problems:
        raise ValidationFailed("The grow request has invalid fields.", fields=problems)
    _require_version(circuit, expected_version)
    unit = node.unit
    if direction == "inputs":
        weights = strongest_inputs(network=circuit.network, unit=unit, k=k, threshold=threshold)
        layer_name = weights[0].source_layer if weights else None
    else:
        next_layer = (
            Layer.objects.filter(network=circuit.network, order__gt=unit.layer.order)
            .order_by("order")
            .first()
        )
        if next_layer is None:
            raise ValidationFailed(
                f"{unit.layer.name} is the network's last layer.", fields={"node": ["No outputs."]}
            )
        weights = strongest_outputs(
            network=circuit.network, unit=unit, next_layer=next_layer, k=k, threshold=threshold
        )
        layer_name = next_layer.name
    indices = [w.source if direction == "inputs" else w.target for w in weights]
    others = {
        row.index: row
        for row in Unit.objects.select_related("layer").filter(
            network=circuit.network, layer__name=layer_name, index__in=indices
        )
    }
    with transaction.atomic():
        _bump(circuit, expected_version)
        existing = {
            row.unit_id: row
            for row in CircuitNode.objects.filter(circuit=circuit).select_related("unit__layer")
        }
        added_nodes, added_edges = [], []
        for weight, index in zip(weights, indices, strict=True):
            other = existing.get(others[index].pk)
            if other is None:
                other = CircuitNode.objects.create(circuit=circuit, unit=others[index])
                existing[other.unit_id] = other
                added_nodes.append(other)
            source, target = (other, node) if direction == "inputs" else (node, other)
            if CircuitEdge.objects.filter(circuit=circuit, source=source, target=target).exists():
                continue
            edge = _edge(circuit, source, target, weight)
            edge.save()
            added_edges.append(edge)
        _record(
            circuit,
            actor,
            "circuit.grown",
            after={
                "from": unit_label(unit),
                "direction": direction,
                "k": k,
                "threshold": threshold,
                "nodes": [unit_label(n.unit) for n in added_nodes],
                "edges": [_edge_event(edge) for edge in added_edges],
            },
        )
    return added_nodes, added_edges


def circuit_snapshot(circuit):
    return {
        "name": circuit.name,
        "description": circuit.description,
        "network": circuit.network.name,
    }


def _edge(circuit, source, target, weight):
    return CircuitEdge(
        circuit=circuit,
        source=source,
        target=target,
        magnitude=weight.magnitude,
        sign=weight.sign,
        kind=weight.kind,
        kernel=weight.kernel,
        origin=weight_origin(circuit.network, weight),
    )


def _edge_event(edge):
    return {
        "source": unit_label(edge.source.unit),
        "target": unit_label(edge.target.unit),
        "magnitude": edge.magnitude,
        "sign": edge.sign,
        "kind": edge.kind,
    }


def _check_unit(circuit, unit):
    if unit.network_id != circuit.network_id:
        raise ValidationFailed(
            f"{unit_label(unit)} is not a unit of {circuit.network.name}.",
            fields={"unit": ["Another network."]},
        )


def _clean(values):
    if "name" in values:
        values = {**values, "name": str(values["name"]).strip()}
    problems = {}
    for field, value in values.items():
        try:
            Circuit._meta.get_field(field).clean(value, None)
        except ValidationError as error:
            problems[field] = error.messages
    if problems:
        raise ValidationFailed("The circuit has invalid fields.", fields=problems)
    return values


def _require_version(circuit, expected_version):
    """Refuse a stale request before the engine spends time on it (the conditional UPDATE in
    ``_bump`` still decides)."""
    if circuit.version == expected_version:
        return
    current = Circuit.objects.filter(pk=circuit.pk).values_list("version", flat=True).first()
    if current is None:
        raise NotFound(f"No circuit {circuit.pk} in this project.")
    if current != expected_version:
        raise stale("circuit", current)


def _bump(circuit, expected_version, **fields):
    """The If-Match check and the version bump as one conditional UPDATE: 412 when the circuit
    is at another version, 404 when it is gone."""
    now = timezone.now()
    updated = Circuit.objects.filter(pk=circuit.pk, version=expected_version).update(
        **fields, updated_at=now, version=F("version") + 1
    )
    if not updated:
        current = Circuit.objects.filter(pk=circuit.pk).values_list("version", flat=True).first()
        if current is None:
            raise NotFound(f"No circuit {circuit.pk} in this project.")
        raise stale("circuit", current)
    for field, value in fields.items():
        setattr(circuit, field, value)
    circuit.version = expected_version + 1
    circuit.updated_at = now


def _record(circuit, actor, verb, *, before=None, after=None):
    event_record(
        project=circuit.project,
        actor=actor,
        verb=verb,
        target_type="circuit",
        target_id=circuit.pk,
        label=circuit.name,
        before=before,
        after=after,
    )


def _name_taken(name):
    return Conflict(
        f"A circuit named {name!r} already exists in this project.",
        code="name_taken",
        fields={"name": ["Taken by another circuit."]},
    )
