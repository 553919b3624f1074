"""Circuits: list, create, read, edit, delete; add and remove nodes and edges; grow from a
node by the engine's weights; history. Every change answers with the whole circuit and its
new ETag."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

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
from annotations.selectors.circuits import (
    circuit_edge_get,
    circuit_get,
    circuit_node_for_field,
    circuit_node_get,
    circuits_of,
    unit_for_field,
)
from annotations.selectors.events import history_of
from annotations.selectors.projects import project_get_for_user
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
from server.schema import ERROR, if_match_parameter

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


def _circuit_response(project, circuit_id, status_code=status.HTTP_200_OK):
    circuit = circuit_get(project=project, circuit_id=circuit_id)
    return with_etag(
        Response(CircuitDetailOutputSerializer(circuit).data, status=status_code), circuit.version
    )


def _for_change(request, slug, circuit_id):
    project = project_get_for_user(user=request.user, slug=slug, action="circuit.update")
    return project, circuit_get(project=project, circuit_id=circuit_id)


class CircuitListView(APIView):
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_circuits_list",
        responses={200: CircuitOutputSerializer(many=True), **READ_ERRORS},
        description="The project's circuits by name, with their node and edge counts.",
    )
    def get(self, request, slug):
        project = project_get_for_user(user=request.user, slug=slug)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(circuits_of(project=project), request, self)
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
        project = project_get_for_user(user=request.user, slug=slug, action="circuit.create")
        payload = CircuitCreateInputSerializer(data=request.data, project=project)
        payload.is_valid(raise_exception=True)
        circuit = circuit_create(project=project, actor=request.user, **payload.validated_data)
        return _circuit_response(project, circuit.pk, status.HTTP_201_CREATED)


class CircuitDetailView(APIView):
    @extend_schema(
        operation_id="projects_circuits_retrieve",
        responses={200: CircuitDetailOutputSerializer, **READ_ERRORS},
        parameters=[ETAG],
        description="One circuit with its nodes and edges (weights, signs, kernels).",
    )
    def get(self, request, slug, circuit_id):
        project = project_get_for_user(user=request.user, slug=slug)
        return _circuit_response(project, circuit_id)

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
        project, circuit = _for_change(request, slug, circuit_id)
        version = expected_version(request)
        payload = CircuitUpdateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if payload.validated_data:
            circuit_update(
                circuit=circuit,
                actor=request.user,
                expected_version=version,
                **payload.validated_data,
            )
        return _circuit_response(project, circuit.pk)

    @extend_schema(
        operation_id="projects_circuits_delete",
        responses={204: None, **CONDITIONAL_ERRORS},
        parameters=[IF_MATCH],
        description="Delete the circuit with its nodes and edges: its author, reviewers and "
        "owners.",
    )
    def delete(self, request, slug, circuit_id):
        # Who may delete depends on the circuit (its author may): the service decides.
        project = project_get_for_user(user=request.user, slug=slug)
        circuit = circuit_get(project=project, circuit_id=circuit_id)
        circuit_delete(
            circuit=circuit, actor=request.user, expected_version=expected_version(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CircuitNodesView(APIView):
    @extend_schema(
        operation_id="projects_circuits_nodes_add",
        request=CircuitNodeInputSerializer,
        responses=ADDED,
        parameters=[IF_MATCH, ETAG],
        description="Add a unit of the circuit's network as a node, with its role. A unit "
        "already in the circuit gives 409 `node_exists`.",
    )
    def post(self, request, slug, circuit_id):
        project, circuit = _for_change(request, slug, circuit_id)
        version = expected_version(request)
        payload = CircuitNodeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        unit = unit_for_field(
            project=project,
            network_name=circuit.network.name,
            address=payload.validated_data["unit"],
            field="unit",
        )
        circuit_node_add(
            circuit=circuit,
            unit=unit,
            actor=request.user,
            expected_version=version,
            role=payload.validated_data["role"],
        )
        return _circuit_response(project, circuit.pk, status.HTTP_201_CREATED)


class CircuitNodeDetailView(APIView):
    @extend_schema(
        operation_id="projects_circuits_nodes_update",
        request=CircuitNodeUpdateInputSerializer,
        responses=CHANGED,
        parameters=[IF_MATCH, ETAG],
        description="Rewrite a node's role in the circuit.",
    )
    def patch(self, request, slug, circuit_id, node_id):
        project, circuit = _for_change(request, slug, circuit_id)
        node = circuit_node_get(circuit=circuit, node_id=node_id)
        version = expected_version(request)
        payload = CircuitNodeUpdateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        circuit_node_update(
            circuit=circuit,
            node=node,
            actor=request.user,
            expected_version=version,
            role=payload.validated_data["role"],
        )
        return _circuit_response(project, circuit.pk)

    @extend_schema(
        operation_id="projects_circuits_nodes_remove",
        request=None,
        responses=CHANGED,
        parameters=[IF_MATCH, ETAG],
        description="Remove a node and every edge that touches it.",
    )
    def delete(self, request, slug, circuit_id, node_id):
        project, circuit = _for_change(request, slug, circuit_id)
        node = circuit_node_get(circuit=circuit, node_id=node_id)
        circuit_node_remove(
            circuit=circuit,
            node=node,
            actor=request.user,
            expected_version=expected_version(request),
        )
        return _circuit_response(project, circuit.pk)


class CircuitEdgesView(APIView):
    @extend_schema(
        operation_id="projects_circuits_edges_add",
        request=CircuitEdgeInputSerializer,
        responses=ADDED,
        parameters=[IF_MATCH, ETAG],
        description="Join two nodes by the engine's weight from `source` to `target` (a later "
        "layer): the direct kernel between adjacent layers, the expanded weight otherwise. "
        "400 `weights_unavailable` when the engine cannot compute it (a TorchScript network).",
    )
    def post(self, request, slug, circuit_id):
        project, circuit = _for_change(request, slug, circuit_id)
        version = expected_version(request)
        payload = CircuitEdgeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        source, target = (
            circuit_node_for_field(
                circuit=circuit, node_id=payload.validated_data[field], field=field
            )
            for field in ("source", "target")
        )
        circuit_edge_add(
            circuit=circuit,
            source=source,
            target=target,
            actor=request.user,
            expected_version=version,
        )
        return _circuit_response(project, circuit.pk, status.HTTP_201_CREATED)


class CircuitEdgeDetailView(APIView):
    @extend_schema(
        operation_id="projects_circuits_edges_remove",
        request=None,
        responses=CHANGED,
        parameters=[IF_MATCH, ETAG],
    )
    def delete(self, request, slug, circuit_id, edge_id):
        project, circuit = _for_change(request, slug, circuit_id)
        edge = circuit_edge_get(circuit=circuit, edge_id=edge_id)
        circuit_edge_remove(
            circuit=circuit,
            edge=edge,
            actor=request.user,
            expected_version=expected_version(request),
        )
        return _circuit_response(project, circuit.pk)


class CircuitGrowView(APIView):
    @extend_schema(
        operation_id="projects_circuits_grow",
        request=CircuitGrowInputSerializer,
        responses=CHANGED,
        parameters=[IF_MATCH, ETAG],
        description="From a node, add the `k` units of the layer before it (`inputs`) or after "
        "it (`outputs`) with the largest weights by L2 norm, at least `threshold`: new nodes "
        "and an edge to each.",
    )
    def post(self, request, slug, circuit_id):
        project, circuit = _for_change(request, slug, circuit_id)
        version = expected_version(request)
        payload = CircuitGrowInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        node = circuit_node_for_field(circuit=circuit, node_id=data["node"], field="node")
        circuit_grow(
            circuit=circuit,
            node=node,
            actor=request.user,
            expected_version=version,
            direction=data["direction"],
            k=data["k"],
            threshold=data["threshold"],
        )
        return _circuit_response(project, circuit.pk)


class CircuitHistoryView(APIView):
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_circuits_history",
        responses={200: EventOutputSerializer(many=True), **READ_ERRORS},
        description="Every change to the circuit, newest first; kept after it is deleted.",
    )
    def get(self, request, slug, circuit_id):
        project = project_get_for_user(user=request.user, slug=slug)
        events = history_of(project=project, target_type="circuit", target_id=circuit_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(events, request, self)
        return paginator.get_paginated_response(EventOutputSerializer(page, many=True).data)
