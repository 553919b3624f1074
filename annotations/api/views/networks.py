from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.serializers import ProjectNetworkOutputSerializer
from annotations.selectors.networks import project_networks
from annotations.selectors.projects import project_get_for_user
from annotations.services.networks import project_network_register
from server.pagination import AtlasPagination
from server.parsers import AtlasFormParser, AtlasJSONParser, AtlasMultiPartParser
from server.schema import ERROR
from workers.api.serializers import NetworkOutputSerializer
from workers.services.networks import MAX_RANDOM_SEED


class NetworkRegisterInputSerializer(serializers.Serializer):
    name = serializers.SlugField(max_length=100)
    arch = serializers.ChoiceField(choices=["mobilenet_v2", "inception_v1"], required=False)
    weights = serializers.FileField(required=False, help_text="A state dict (.pt, .safetensors).")
    bundled_weights = serializers.BooleanField(required=False, default=False)
    random_weights = serializers.BooleanField(required=False, default=False)
    seed = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=MAX_RANDOM_SEED
    )
    torchscript = serializers.FileField(required=False)
    input_size = serializers.IntegerField(required=False, default=224)
    description = serializers.CharField(required=False, default="", allow_blank=True)


class ProjectNetworksView(APIView):
    """The networks a project studies; registering a new one adds it to the project."""

    pagination_class = AtlasPagination
    parser_classes = [AtlasMultiPartParser, AtlasFormParser, AtlasJSONParser]
    body_limit_setting = "ATLAS_MAX_UPLOAD_BYTES"

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

    @extend_schema(
        operation_id="projects_networks_register",
        request={"multipart/form-data": NetworkRegisterInputSerializer},
        responses={201: NetworkOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        description="Register a network from uploaded weights, the bundled weights, random "
        "weights or a TorchScript file, and add it to the project. Weights are loaded only "
        "with torch.load(weights_only=True), safetensors or torch.jit.load.",
    )
    def post(self, request, slug):
        project = project_get_for_user(user=request.user, slug=slug, action="network.register")
        payload = NetworkRegisterInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        network = project_network_register(
            project=project,
            actor=request.user,
            name=data["name"],
            arch=data.get("arch", ""),
            weights=data.get("weights"),
            bundled_weights=data["bundled_weights"],
            random_seed=data["seed"] if data["random_weights"] else None,
            torchscript=data.get("torchscript"),
            input_size=data["input_size"],
            description=data["description"],
        )
        context = {"unit_counts": {network.pk: network.units.count()}}
        network.layer_count = network.layers.count()
        return Response(
            NetworkOutputSerializer(network, context=context).data, status=status.HTTP_201_CREATED
        )
