"""Circuits: list, create, read, edit, delete; add and remove nodes and edges; grow from a
node by the engine's weights; history. Every change answers with the whole circuit and its
new ETag.

Edges and growing read the weights a connections job stored; while they are not stored, the
request changes nothing and answers 409 ``weights_pending`` naming that job in
``fields.job``: the client waits for the job and sends the same request again."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from annotations.api.serializers_circuits import (
    CircuitCreateInputSerializer,
    CircuitDetailOutputSerializer,
    CircuitEdgeInputSerializer,
    CircuitGrowInputSerializer,
    CircuitNodeInputSerializer,
    CircuitNodeUpdateInputSerializer,
    CircuitOutputSerializer,
    CircuitUpdateInputSerializer,
)
from annotations.api.serializers_taxonomy import EventOutputSerializer
from annotations.api.views.base import ProjectView
from annotations.selectors.circuits import (
    circuit_edge_get,
    circuit_get,
    circuit_node_for_field,
    circuit_node_get,
    circuits_of,
    unit_for_field,
)
from annotations.selectors.events import history_of
from annotations.services.circuits import (
    circuit_create,
    circuit_delete,
    circuit_edge_add,
    circuit_edge_remove,
    circuit_grow,
    circuit_node_add,
    circuit_node_remove,
    circuit_node_update,
    circuit_update,
)
from server.concurrency import expected_version, with_etag
from server.pagination import AtlasPagination
from server.schema import ERROR, ApiErrorSerializer, if_match_parameter

IF_MATCH = if_match_parameter("circuit")
ETAG = OpenApiParameter(
    "ETag",
    location=OpenApiParameter.HEADER,
    response=[200, 201],
    description="The circuit's version; send it back as If-Match to change the circuit.",
)
READ_ERRORS = {401: ERROR, 404: ERROR}
WRITE_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}
CONDITIONAL_ERRORS = {**WRITE_ERRORS, 412: ERROR, 428: ERROR}
CHANGED = {200: CircuitDetailOutputSerializer, **CONDITIONAL_ERRORS}
ADDED = {201: CircuitDetailOutputSerializer, **CONDITIONAL_ERRORS}
WEIGHTS_PENDING = OpenApiResponse(
    ApiErrorSerializer,
    description="`weights_pending`: the weights between these layers are not stored yet; the "
    "job computing them is in `fields.job` (`GET /api/v1/jobs/{id}/`). Nothing changed: send "
    "the same request again once the job has succeeded. Other codes: the current state "
    "refuses the change (`edge_exists`).",
)
WEIGHTS_UNAVAILABLE = OpenApiResponse(
    ApiErrorSerializer,
    description="Invalid input (`fields` names which); `weights_unavailable` when no weights "
    "can be computed there (a TorchScript network, the inputs of a first layer).",
)
WEIGHED = {**CONDITIONAL_ERRORS, 400: WEIGHTS_UNAVAILABLE, 409: WEIGHTS_PENDING}


def _circuit_response(project, circuit_id, status_code=status.HTTP_200_OK):
    circuit = circuit_get(project=project, circuit_id=circuit_id)
    return with_etag(
        Response(CircuitDetailOutputSerializer(circuit).data, status=status_code), circuit.version
    )


def _validated(serializer_class, request):
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


class CircuitChangeView(ProjectView):
    """A change to one circuit of the project: annotators and up (the service decides for
    each circuit), If-Match required."""

    project_action = "circuit.update"

    def circuit(self, circuit_id):
        return circuit_get(project=self.project, circuit_id=circuit_id)

    def nodes(self, circuit, data, *fields):
        """The nodes of ``circuit`` that the body's ``fields`` name, by field."""
        return {
            field: circuit_node_for_field(circuit=circuit, node_id=data[field], field=field)
            for field in fields
        }


class CircuitListView(ProjectView):
    project_actions = {"POST": "circuit.create"}
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_circuits_list",
        responses={200: CircuitOutputSerializer(many=True), **READ_ERRORS},
        description="The project's circuits by name, with their node and edge counts.",
    )
    def get(self, request, slug):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(circuits_of(project=self.project), request, self)
        return paginator.get_paginated_response(CircuitOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="projects_circuits_create",
        request=CircuitCreateInputSerializer,
        responses={201: CircuitDetailOutputSerializer, **WRITE_ERRORS},
        parameters=[ETAG],
        description="Create an empty circuit on one of the project's networks. Annotators and "
        "up. A name taken in the project gives 409 `name_taken`.",
    )
    def post(self, request, slug):
        payload = CircuitCreateInputSerializer(data=request.data, project=self.project)
        payload.is_valid(raise_exception=True)
        circuit = circuit_create(project=self.project, actor=request.user, **payload.validated_data)
        return _circuit_response(self.project, circuit.pk, status.HTTP_201_CREATED)


class CircuitDetailView(CircuitChangeView):
    # Who may delete depends on the circuit (its author may): the service decides.
    project_actions = {"GET": "project.view", "DELETE": "project.view"}

    @extend_schema(
        operation_id="projects_circuits_retrieve",
        responses={200: CircuitDetailOutputSerializer, **READ_ERRORS},
        parameters=[ETAG],
        description="One circuit with its nodes and edges (weights, signs, kernels).",
    )
    def get(self, request, slug, circuit_id):
        return _circuit_response(self.project, circuit_id)

    @extend_schema(
        operation_id="projects_circuits_update",
        request=CircuitUpdateInputSerializer,
        responses=CHANGED,
        parameters=[IF_MATCH, ETAG],
        description="Rename the circuit or change its description. Annotators and up. Without "
        "If-Match 428; with a stale one 412 and the current version in "
        "`fields.current_version`.",
    )
    def patch(self, request, slug, circuit_id):
        circuit = self.circuit(circuit_id)
        version = expected_version(request)
        changes = _validated(CircuitUpdateInputSerializer, request)
        if changes:
            circuit_update(circuit=circuit, actor=request.user, expected_version=version, **changes)
        return _circuit_response(self.project, circuit.pk)

    @extend_schema(
        operation_id="projects_circuits_delete",
        responses={204: None, **CONDITIONAL_ERRORS},
        parameters=[IF_MATCH],
        description="Delete the circuit with its nodes and edges: its author, reviewers and "
        "owners.",
    )
    def delete(self, request, slug, circuit_id):
        circuit = self.circuit(circuit_id)
        version = expected_version(request)
        circuit_delete(circuit=circuit, actor=request.user, expected_version=version)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CircuitNodesView(CircuitChangeView):
    @extend_schema(
        operation_id="projects_circuits_nodes_add",
        request=CircuitNodeInputSerializer,
        responses=ADDED,
        parameters=[IF_MATCH, ETAG],
        description="Add a unit of the circuit's network as a node, with its role. A unit "
        "already in the circuit gives 409 `node_exists`.",
    )
    def post(self, request, slug, circuit_id):
        circuit = self.circuit(circuit_id)
        version = expected_version(request)
        data = _validated(CircuitNodeInputSerializer, request)
        unit = unit_for_field(
            project=self.project,
            network_name=circuit.network.name,
            address=data["unit"],
            field="unit",
        )
        circuit_node_add(
            circuit=circuit,
            unit=unit,
            actor=request.user,
            expected_version=version,
            role=data["role"],
        )
        return _circuit_response(self.project, circuit.pk, status.HTTP_201_CREATED)


class CircuitNodeDetailView(CircuitChangeView):
    @extend_schema(
        operation_id="projects_circuits_nodes_update",
        request=CircuitNodeUpdateInputSerializer,
        responses=CHANGED,
        parameters=[IF_MATCH, ETAG],
        description="Rewrite a node's role in the circuit.",
    )
    def patch(self, request, slug, circuit_id, node_id):
        circuit = self.circuit(circuit_id)
        node = circuit_node_get(circuit=circuit, node_id=node_id)
        version = expected_version(request)
        data = _validated(CircuitNodeUpdateInputSerializer, request)
        circuit_node_update(
            circuit=circuit,
            node=node,
            actor=request.user,
            expected_version=version,
            role=data["role"],
        )
        return _circuit_response(self.project, circuit.pk)

    @extend_schema(
        operation_id="projects_circuits_nodes_remove",
        request=None,
        responses=CHANGED,
        parameters=[IF_MATCH, ETAG],
        description="Remove a node and every edge that touches it.",
    )
    def delete(self, request, slug, circuit_id, node_id):
        circuit = self.circuit(circuit_id)
        node = circuit_node_get(circuit=circuit, node_id=node_id)
        version = expected_version(request)
        circuit_node_remove(
            circuit=circuit, node=node, actor=request.user, expected_version=version
        )
        return _circuit_response(self.project, circuit.pk)


class CircuitEdgesView(CircuitChangeView):
    @extend_schema(
        operation_id="projects_circuits_edges_add",
        request=CircuitEdgeInputSerializer,
        responses={201: CircuitDetailOutputSerializer, **WEIGHED},
        parameters=[IF_MATCH, ETAG],
        description="Join two nodes by the engine's weight from `source` to `target` (a later "
        "layer): the direct kernel between adjacent layers, the expanded weight otherwise, as "
        "a connections job stored it. 409 `weights_pending` while that job has not stored "
        "them yet; 400 `weights_unavailable` when the engine cannot compute them (a "
        "TorchScript network).",
    )
    def post(self, request, slug, circuit_id):
        circuit = self.circuit(circuit_id)
        version = expected_version(request)
        data = _validated(CircuitEdgeInputSerializer, request)
        circuit_edge_add(
            circuit=circuit,
            actor=request.user,
            expected_version=version,
            **self.nodes(circuit, data, "source", "target"),
        )
        return _circuit_response(self.project, circuit.pk, status.HTTP_201_CREATED)


class CircuitEdgeDetailView(CircuitChangeView):
    @extend_schema(
        operation_id="projects_circuits_edges_remove",
        request=None,
        responses=CHANGED,
        parameters=[IF_MATCH, ETAG],
    )
    def delete(self, request, slug, circuit_id, edge_id):
        circuit = self.circuit(circuit_id)
        edge = circuit_edge_get(circuit=circuit, edge_id=edge_id)
        version = expected_version(request)
        circuit_edge_remove(
            circuit=circuit, edge=edge, actor=request.user, expected_version=version
        )
        return _circuit_response(self.project, circuit.pk)


class CircuitGrowView(CircuitChangeView):
    @extend_schema(
        operation_id="projects_circuits_grow",
        request=CircuitGrowInputSerializer,
        responses={200: CircuitDetailOutputSerializer, **WEIGHED},
        parameters=[IF_MATCH, ETAG],
        description="From a node, add the `k` units of the layer before it (`inputs`) or after "
        "it (`outputs`) with the largest weights by L2 norm, at least `threshold`: new nodes "
        "and an edge to each. 409 `weights_pending` while the connections job for those "
        "layers has not stored the weights yet; 400 `weights_unavailable` when the engine "
        "cannot compute them.",
    )
    def post(self, request, slug, circuit_id):
        circuit = self.circuit(circuit_id)
        version = expected_version(request)
        data = _validated(CircuitGrowInputSerializer, request)
        circuit_grow(
            circuit=circuit,
            actor=request.user,
            expected_version=version,
            direction=data["direction"],
            k=data["k"],
            threshold=data["threshold"],
            **self.nodes(circuit, data, "node"),
        )
        return _circuit_response(self.project, circuit.pk)


class CircuitHistoryView(ProjectView):
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_circuits_history",
        responses={200: EventOutputSerializer(many=True), **READ_ERRORS},
        description="Every change to the circuit, newest first; kept after it is deleted.",
    )
    def get(self, request, slug, circuit_id):
        events = history_of(project=self.project, target_type="circuit", target_id=circuit_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(events, request, self)
        return paginator.get_paginated_response(EventOutputSerializer(page, many=True).data)
