from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from annotations.api.serializers import (
    MembershipAddInputSerializer,
    MembershipChangeInputSerializer,
    MembershipOutputSerializer,
)
from annotations.api.views.base import ProjectView
from annotations.selectors.projects import membership_get, project_members
from annotations.services.memberships import (
    membership_add,
    membership_change_role,
    membership_remove,
)
from server.pagination import AtlasPagination
from server.schema import ERROR, AtlasAutoSchema


class MemberListView(ProjectView):
    project_actions = {"POST": "membership.manage"}
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_members_list",
        responses={200: MembershipOutputSerializer(many=True), 401: ERROR, 404: ERROR},
        description="The project's members and their roles, by username.",
    )
    def get(self, request, slug):
        return self.page_response(project_members(project=self.project), MembershipOutputSerializer)

    @extend_schema(
        operation_id="projects_members_add",
        request=MembershipAddInputSerializer,
        responses={
            201: MembershipOutputSerializer,
            400: ERROR,
            401: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
        description="Add a user to the project with a role. Owners only.",
    )
    def post(self, request, slug):
        serializer = MembershipAddInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_add(
            project=self.project, **serializer.validated_data, actor=request.user
        )
        return Response(MembershipOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class _RoleChangeSchema(AtlasAutoSchema):
    """drf-spectacular describes every PATCH body as partial (every field optional); a role
    change is read whole, so its body says the role is required."""

    def _get_request_for_media_type(self, serializer, direction="request"):
        method, self.method = self.method, "PUT"
        try:
            return super()._get_request_for_media_type(serializer, direction)
        finally:
            self.method = method


class MemberDetailView(ProjectView):
    project_action = "membership.manage"
    schema = _RoleChangeSchema()

    @extend_schema(
        operation_id="projects_members_update",
        request=MembershipChangeInputSerializer,
        responses={
            200: MembershipOutputSerializer,
            400: ERROR,
            401: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
        description="Change a member's role. Owners only; the last owner cannot step down "
        "(409 `last_owner`).",
    )
    def patch(self, request, slug, username):
        membership = membership_get(project=self.project, username=username)
        serializer = MembershipChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_change_role(
            membership=membership, **serializer.validated_data, actor=request.user
        )
        return Response(MembershipOutputSerializer(membership).data)

    @extend_schema(
        operation_id="projects_members_remove",
        responses={204: None, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        description="Remove a member. Owners only; the last owner cannot be removed "
        "(409 `last_owner`).",
    )
    def delete(self, request, slug, username):
        membership = membership_get(project=self.project, username=username)
        membership_remove(membership=membership, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
