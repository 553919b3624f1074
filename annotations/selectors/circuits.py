"""Reads about circuits (with their nodes and edges) and universality links."""

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce

from annotations.models import Circuit, CircuitEdge, CircuitNode, UnitLink
from server.errors import NotFound, UnknownReference
from workers.addresses import MalformedAddress, UnitAddress
from workers.models import Unit

MAX_INDEX = 10**18 - 1


def _count_of(model):
    """A subquery: how many ``model`` rows (nodes or edges) the circuit has. Counted apart,
    not as DISTINCT counts over one join of both, which made a row per node × edge (30 ms
    for the bench's 20 circuits of 12 nodes and 32 edges)."""
    rows = (
        model.objects.filter(circuit=OuterRef("pk"))
        .order_by()
        .values("circuit")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def circuits_of(*, project):
    """The project's circuits by name, with ``node_count`` and ``edge_count``."""
    return (
        Circuit.objects.filter(project=project)
        .select_related("network", "created_by")
        .annotate(node_count=_count_of(CircuitNode), edge_count=_count_of(CircuitEdge))
        .order_by("name", "pk")
    )


def circuit_get(*, project, circuit_id):
    """Circuit ``circuit_id`` of ``project`` with its nodes and edges prefetched; 404 otherwise."""
    circuit = (
        circuits_of(project=project)
        .filter(pk=circuit_id)
        .prefetch_related(
            Prefetch(
                "nodes",
                queryset=CircuitNode.objects.select_related("unit__layer").order_by(
                    "unit__layer__order", "unit__index"
                ),
            ),
            Prefetch(
                "edges",
                queryset=CircuitEdge.objects.order_by(
                    "source__unit__layer__order", "source__unit__index", "target__unit__index"
                ),
            ),
        )
        .first()
    )
    if circuit is None:
        raise NotFound(f"No circuit {circuit_id} in this project.")
    # Each edge's ends are nodes already read: building them again with their units and layers
    # for every edge was most of the request's time (bench/API.md).
    nodes = {node.pk: node for node in circuit.nodes.all()}
    for edge in circuit.edges.all():
        edge.source, edge.target = nodes[edge.source_id], nodes[edge.target_id]
    return circuit


def circuit_node_get(*, circuit, node_id):
    node = (
        CircuitNode.objects.select_related("unit__layer")
        .filter(circuit=circuit, pk=node_id)
        .first()
    )
    if node is None:
        raise NotFound(f"No node {node_id} in this circuit.")
    return node


def circuit_node_for_field(*, circuit, node_id, field):
    """The node of ``circuit`` a request names in ``field``; ValidationFailed otherwise."""
    node = (
        CircuitNode.objects.select_related("unit__layer")
        .filter(circuit=circuit, pk=node_id)
        .first()
    )
    if node is None:
        raise UnknownReference(
            f"No node {node_id} in this circuit.", fields={field: ["Not a node of this circuit."]}
        )
    return node


def circuit_edge_get(*, circuit, edge_id):
    edge = (
        CircuitEdge.objects.select_related("source__unit__layer", "target__unit__layer")
        .filter(circuit=circuit, pk=edge_id)
        .first()
    )
    if edge is None:
        raise NotFound(f"No edge {edge_id} in this circuit.")
    return edge


def _unit_in_project(*, project, network_name, address):
    """The unit at ``address`` ("layer:index") of the project's network ``network_name``, or
    None. An index past 18 digits names no unit (nor fits a database's integer)."""
    try:
        address = UnitAddress.parse(address)
    except MalformedAddress:
        return None
    if address.index > MAX_INDEX:
        return None
    return (
        Unit.objects.select_related("layer", "network")
        .filter(
            network__project_links__project=project,
            network__name=network_name,
            layer__name=address.layer,
            index=address.index,
        )
        .first()
    )


def unit_for_field(*, project, network_name, address, field):
    """The unit a request body names in ``field``; an unknown one is that field's error."""
    unit = _unit_in_project(project=project, network_name=network_name, address=address)
    if unit is None:
        raise UnknownReference(
            f"This project studies no unit {network_name}/{address}.",
            fields={field: ["Unknown unit."]},
        )
    return unit


def unit_get_for_project(*, project, network_name, address):
    """The unit a URL names; an unknown one is a 404, as any path that names nothing."""
    unit = _unit_in_project(project=project, network_name=network_name, address=address)
    if unit is None:
        raise NotFound(f"This project studies no unit {network_name}/{address}.")
    return unit


def _links():
    return UnitLink.objects.select_related(
        "unit_a__layer",
        "unit_a__network",
        "unit_b__layer",
        "unit_b__network",
        "group_a",
        "group_b",
        "proposed_by",
        "reviewed_by",
    )


def links_of(*, project, status=None):
    """The project's links, newest first; only those with ``status`` when given."""
    links = _links().filter(project=project)
    if status:
        links = links.filter(status=status)
    return links.order_by("-created_at", "-id")


def link_get(*, project, link_id):
    link = _links().filter(project=project, pk=link_id).first()
    if link is None:
        raise NotFound(f"No link {link_id} in this project.")
    return link


def unit_links(*, project, unit):
    """The confirmed links of ``unit`` in ``project``, from either side."""
    return (
        _links()
        .filter(project=project, status=UnitLink.Status.CONFIRMED)
        .filter(Q(unit_a=unit) | Q(unit_b=unit))
        .order_by("-created_at", "-id")
    )
