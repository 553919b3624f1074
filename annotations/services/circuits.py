"""Use cases on circuits: create, edit and delete a circuit, add and remove its nodes and edges,
and grow it from a node by the engine's strongest weights.

Every write names the circuit version the client read (If-Match): the version check and the
bump are one conditional UPDATE at the start of the transaction, so two edits of one circuit
never interleave. Weights are read before the transaction from what a connections job stored
(``workers.services.connections``); while they are not stored yet, adding an edge or growing
requests that job, changes nothing and raises ``WeightsPending`` (409) naming it.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from annotations.models import Circuit, CircuitEdge, CircuitNode, ProjectNetwork
from annotations.policies import authorize
from annotations.services.events import event_log
from annotations.services.grid_changes import project_changed
from server.concurrency import stale
from server.errors import Conflict, NotFound, ValidationFailed
from workers.models import Layer, Unit
from workers.selectors.connections import ENGINE
from workers.services.connections import connections_require

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
                f"{unit.address} is already in this circuit.",
                code="node_exists",
                fields={"unit": ["Already a node."]},
            )
        node = CircuitNode.objects.create(circuit=circuit, unit=unit, role=role)
        _record(
            circuit, actor, "circuit.node_added", after={"unit": str(unit.address), "role": role}
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
            before={"unit": str(node.unit.address), "role": before},
            after={"unit": str(node.unit.address), "role": role},
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
            before={"unit": str(node.unit.address), "role": node.role, "edges": removed},
        )


def circuit_edge_add(*, circuit, source, target, actor, expected_version):
    """Join node ``source`` to node ``target`` (a later layer) by the engine's weight: the
    direct kernel between adjacent layers, the expanded one otherwise."""
    authorize(actor=actor, action="circuit.update", obj=circuit)
    if source.circuit_id != circuit.pk or target.circuit_id != circuit.pk:
        raise ValidationFailed(
            "Both nodes must be in this circuit.", fields={"source": ["Unknown."]}
        )
    _require_version(circuit, expected_version)
    if source.unit.layer.order >= target.unit.layer.order:
        raise ValidationFailed(
            "An edge goes from an earlier layer to a later one.",
            code="edge_direction",
            fields={"target": ["Not in a later layer than the source."]},
        )
    connections = connections_require(
        network=circuit.network,
        layer=target.unit.layer,
        source_layer=source.unit.layer,
        actor=actor,
    )
    weight = connections.weight(source.unit.index, target.unit.index)
    with transaction.atomic():
        _bump(circuit, expected_version)
        if CircuitEdge.objects.filter(circuit=circuit, source=source, target=target).exists():
            raise Conflict(
                f"{source.unit.address} → {target.unit.address} is already an edge.",
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
        connections = connections_require(network=circuit.network, layer=unit.layer, actor=actor)
        weights = connections.strongest_into(unit.index, k=k, threshold=threshold)
        layer_name = connections.source_layer
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
        connections = connections_require(
            network=circuit.network, layer=next_layer, source_layer=unit.layer, actor=actor
        )
        weights = connections.strongest_from(unit.index, k=k, threshold=threshold)
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
                "from": str(unit.address),
                "direction": direction,
                "k": k,
                "threshold": threshold,
                "nodes": [str(n.unit.address) for n in added_nodes],
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
        origin={
            "engine": ENGINE,
            "network": circuit.network.name,
            "weights_sha256": circuit.network.weights_sha256,
            "random_seed": circuit.network.random_seed,
            "source_layer": weight.source_layer,
            "layer": weight.layer,
        },
    )


def _edge_event(edge):
    return {
        "source": str(edge.source.unit.address),
        "target": str(edge.target.unit.address),
        "magnitude": edge.magnitude,
        "sign": edge.sign,
        "kind": edge.kind,
    }


def _check_unit(circuit, unit):
    if unit.network_id != circuit.network_id:
        raise ValidationFailed(
            f"{unit.address} is not a unit of {circuit.network.name}.",
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
    event_log(circuit, verb, actor=actor, before=before, after=after)
    project_changed(project_id=circuit.project_id)


def _name_taken(name):
    return Conflict(
        f"A circuit named {name!r} already exists in this project.",
        code="name_taken",
        fields={"name": ["Taken by another circuit."]},
    )
