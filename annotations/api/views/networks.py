from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from annotations.api.schema import ERROR
from annotations.api.serializers import ProjectNetworkOutputSerializer
from annotations.selectors.networks import project_networks
from annotations.selectors.projects import project_get_for_user
from server.pagination import AtlasPagination


class ProjectNetworksView(APIView):
    """The networks a project studies."""

    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_networks_list",
        responses={200: ProjectNetworkOutputSerializer(many=True), 401: ERROR, 404: ERROR},
        description="The networks the project studies, with their layer and unit counts.",
    )
    def get(self, request, slug):
        project = project_get_for_user(user=request.user, slug=slug)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(project_networks(project=project), request, self)
        return paginator.get_paginated_response(
            ProjectNetworkOutputSerializer(page, many=True).data
        )
