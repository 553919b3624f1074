from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.serializers import (
    ProjectCreateInputSerializer,
    ProjectOutputSerializer,
    ProjectUpdateInputSerializer,
)
from annotations.api.views.base import ProjectView
from annotations.selectors.projects import project_get_for_user, projects_for_user
from annotations.services.projects import project_create, project_update
from server.concurrency import expected_version, with_etag
from server.pagination import AtlasPagination
from server.schema import ERROR, if_match_parameter

IF_MATCH = if_match_parameter("project", "; required for every change")
ETAG = OpenApiParameter(
    "ETag",
    location=OpenApiParameter.HEADER,
    response=[200],
    description="The project's version; send it back as If-Match to change the project.",
)


class ProjectListView(APIView):
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_list",
        responses={200: ProjectOutputSerializer(many=True), 401: ERROR},
        description="The projects you belong to (every project, for a superuser).",
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(projects_for_user(user=request.user), request, self)
        return paginator.get_paginated_response(ProjectOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="projects_create",
        request=ProjectCreateInputSerializer,
        responses={201: ProjectOutputSerializer, 400: ERROR, 401: ERROR, 409: ERROR},
        description="Create a project; you become its owner. A taken slug gives 409 `slug_taken`.",
    )
    def post(self, request):
        serializer = ProjectCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = project_create(**serializer.validated_data, actor=request.user)
        # Read back through the selector so the response carries the caller's role.
        project = project_get_for_user(user=request.user, slug=project.slug)
        return Response(ProjectOutputSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailView(ProjectView):
    project_actions = {"PATCH": "project.update"}

    @extend_schema(
        operation_id="projects_retrieve",
        responses={200: ProjectOutputSerializer, 401: ERROR, 404: ERROR},
        parameters=[ETAG],
    )
    def get(self, request, slug):
        return with_etag(Response(ProjectOutputSerializer(self.project).data), self.project.version)

    @extend_schema(
        operation_id="projects_update",
        request=ProjectUpdateInputSerializer,
        responses={
            200: ProjectOutputSerializer,
            400: ERROR,
            401: ERROR,
            403: ERROR,
            404: ERROR,
            412: ERROR,
            428: ERROR,
        },
        parameters=[IF_MATCH, ETAG],
        description="Change the name, description or review policy. Owners only. Every change "
        "needs If-Match with the ETag you last read (else 428); a stale or weak one gives 412.",
    )
    def patch(self, request, slug):
        serializer = ProjectUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = project_update(
            project=self.project,
            actor=request.user,
            expected_version=expected_version(request),
            **serializer.validated_data,
        )
        return with_etag(Response(ProjectOutputSerializer(project).data), project.version)
