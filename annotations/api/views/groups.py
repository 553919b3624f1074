"""The taxonomy's groups: list (flat or as a tree), create, read, edit, move, merge, delete,
and each group's units."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from annotations.api.serializers_taxonomy import (
    GroupCreateInputSerializer,
    GroupMergeInputSerializer,
    GroupMoveInputSerializer,
    GroupOutputSerializer,
    GroupTreeOutputSerializer,
    GroupUnitOutputSerializer,
    GroupUpdateInputSerializer,
    group_data,
    group_tree_data,
    group_unit_data,
)
from annotations.api.views.base import ProjectView, conditional_input
from annotations.selectors.taxonomy import (
    group_for_field,
    group_get,
    group_units,
    groups_listed,
    groups_tree,
    layer_for_project,
)
from annotations.services.groups import (
    group_create,
    group_delete,
    group_merge,
    group_move,
    group_update,
)
from server.concurrency import expected_version, with_etag
from server.pagination import CountedPagination
from server.schema import ERROR, if_match_parameter

IF_MATCH = if_match_parameter("group")
ETAG = OpenApiParameter(
    "ETag",
    location=OpenApiParameter.HEADER,
    response=[200, 201],
    description="The group's version; send it back as If-Match to change the group.",
)
READ_ERRORS = {401: ERROR, 404: ERROR}
WRITE_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}
CONDITIONAL_ERRORS = {**WRITE_ERRORS, 412: ERROR, 428: ERROR}


def _group_response(group, status_code=status.HTTP_200_OK):
    return with_etag(Response(GroupOutputSerializer(group).data, status=status_code), group.version)


def _layer(project, scope):
    if scope is None:
        return None
    return layer_for_project(project=project, network=scope["network"], layer=scope["layer"])


class GroupListView(ProjectView):
    project_actions = {"POST": "group.create"}
    pagination_class = CountedPagination

    @extend_schema(
        operation_id="projects_groups_list",
        responses={200: GroupOutputSerializer(many=True), **READ_ERRORS},
        description="Every group of the taxonomy, flat, by order and name, with unit counts.",
    )
    def get(self, request, slug):
        return self.page_data_response(groups_listed(project=self.project), group_data)

    @extend_schema(
        operation_id="projects_groups_create",
        request=GroupCreateInputSerializer,
        responses={201: GroupOutputSerializer, **WRITE_ERRORS},
        parameters=[ETAG],
        description="Create a group at the root or under `parent`, optionally limited to one "
        "layer. Annotators and up. A sibling with the same name gives 409 `name_taken`.",
    )
    def post(self, request, slug):
        payload = GroupCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        parent = None
        if data["parent"] is not None:
            parent = group_for_field(project=self.project, group_id=data["parent"], field="parent")
        group = group_create(
            project=self.project,
            actor=request.user,
            name=data["name"],
            parent=parent,
            description=data["description"],
            color=data["color"],
            order=data["order"],
            layer=_layer(self.project, data["layer"]),
        )
        return _group_response(
            group_get(project=self.project, group_id=group.pk), status.HTTP_201_CREATED
        )


class GroupTreeView(ProjectView):
    @extend_schema(
        operation_id="projects_groups_tree",
        responses={200: GroupTreeOutputSerializer(many=True), **READ_ERRORS},
        description="The whole taxonomy as a tree: the root groups, each with its subgroups.",
    )
    def get(self, request, slug):
        return Response(group_tree_data(groups_tree(project=self.project)))


class GroupDetailView(ProjectView):
    project_actions = {"PATCH": "group.update", "DELETE": "group.delete"}

    @extend_schema(
        operation_id="projects_groups_retrieve",
        responses={200: GroupOutputSerializer, **READ_ERRORS},
        parameters=[ETAG],
    )
    def get(self, request, slug, group_id):
        return _group_response(group_get(project=self.project, group_id=group_id))

    @extend_schema(
        operation_id="projects_groups_update",
        request=GroupUpdateInputSerializer,
        responses={200: GroupOutputSerializer, **CONDITIONAL_ERRORS},
        parameters=[IF_MATCH, ETAG],
        description="Rename the group or change its description, color, order or layer scope. "
        "Reviewers and owners. Without If-Match 428; with a stale one 412 and the current "
        "version in `fields.current_version`.",
    )
    def patch(self, request, slug, group_id):
        group = group_get(project=self.project, group_id=group_id)
        version, changes = conditional_input(request, GroupUpdateInputSerializer)
        if not changes:
            # An empty patch changes nothing (RFC 7396): the group as it is, at its version.
            return _group_response(group)
        if "layer" in changes:
            changes["layer"] = _layer(self.project, changes["layer"])
        group = group_update(group=group, actor=request.user, expected_version=version, **changes)
        return _group_response(group)

    @extend_schema(
        operation_id="projects_groups_delete",
        responses={204: None, **CONDITIONAL_ERRORS},
        parameters=[IF_MATCH],
        description="Delete an empty group (no units, no subgroups; else 409 "
        "`group_not_empty`). Reviewers and owners.",
    )
    def delete(self, request, slug, group_id):
        group = group_get(project=self.project, group_id=group_id)
        group_delete(group=group, actor=request.user, expected_version=expected_version(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupMoveView(ProjectView):
    project_action = "group.update"

    @extend_schema(
        operation_id="projects_groups_move",
        request=GroupMoveInputSerializer,
        responses={200: GroupOutputSerializer, **CONDITIONAL_ERRORS},
        parameters=[IF_MATCH, ETAG],
        description="Put the group under another parent (null: the root). Under itself or one "
        "of its subgroups gives 409 `cycle`. Reviewers and owners.",
    )
    def post(self, request, slug, group_id):
        group = group_get(project=self.project, group_id=group_id)
        version, data = conditional_input(request, GroupMoveInputSerializer)
        parent_id = data["parent"]
        parent = None
        if parent_id is not None:
            parent = group_for_field(project=self.project, group_id=parent_id, field="parent")
        group = group_move(group=group, actor=request.user, expected_version=version, parent=parent)
        return _group_response(group)


class GroupMergeView(ProjectView):
    project_action = "group.merge"

    @extend_schema(
        operation_id="projects_groups_merge",
        request=GroupMergeInputSerializer,
        responses={200: GroupOutputSerializer, **CONDITIONAL_ERRORS},
        parameters=[IF_MATCH, ETAG],
        description="Merge this group into `into`: its units and subgroups move there and the "
        "group is deleted, all at once. If-Match is this group's ETag; the response is `into` "
        "with its ETag. Reviewers and owners.",
    )
    def post(self, request, slug, group_id):
        group = group_get(project=self.project, group_id=group_id)
        version, data = conditional_input(request, GroupMergeInputSerializer)
        into = group_for_field(project=self.project, group_id=data["into"], field="into")
        into = group_merge(group=group, into=into, actor=request.user, expected_version=version)
        return _group_response(group_get(project=self.project, group_id=into.pk))


class GroupUnitsView(ProjectView):
    pagination_class = CountedPagination

    @extend_schema(
        operation_id="projects_groups_units",
        responses={200: GroupUnitOutputSerializer(many=True), **READ_ERRORS},
        description="The units whose accepted group this is, in layer and unit order.",
    )
    def get(self, request, slug, group_id):
        group = group_get(project=self.project, group_id=group_id)
        return self.page_data_response(group_units(group=group), group_unit_data)
