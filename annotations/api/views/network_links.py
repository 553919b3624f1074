"""Adding an already registered network to a project (a project setting)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotations.api.serializers import ProjectNetworkOutputSerializer
from annotations.api.views.base import ProjectView
from annotations.selectors.networks import project_networks
from annotations.services.project_networks import project_network_add
from server.schema import ERROR


class NetworkAddInputSerializer(serializers.Serializer):
    network = serializers.CharField(
        max_length=100, help_text="The name of a registered network you may see."
    )


class ProjectNetworkAddView(ProjectView):
    project_action = "project.update"

    @extend_schema(
        operation_id="projects_networks_add",
        request=NetworkAddInputSerializer,
        responses={
            201: ProjectNetworkOutputSerializer,
            400: ERROR,
            401: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
            422: ERROR,
        },
        description="Add a network already in the catalog to the project, without registering "
        "it again. Owners only. The network must be one you may see (a network of a project "
        "you belong to, or one you registered): any other name gives 422 `unknown_reference`; "
        "a network the project already studies gives 409 `already_linked`.",
    )
    def post(self, request, slug):
        payload = NetworkAddInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        link = project_network_add(
            project=self.project, network_name=payload.validated_data["network"], actor=request.user
        )
        network = project_networks(project=self.project).get(pk=link.network_id)
        return Response(
            ProjectNetworkOutputSerializer(network).data, status=status.HTTP_201_CREATED
        )
