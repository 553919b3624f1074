from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotations.api.serializers import ProjectNetworkOutputSerializer
from annotations.api.views.base import ProjectView
from annotations.selectors.networks import project_networks
from annotations.services.networks import project_network_request
from server import text_limits
from server.fields import UploadField
from server.pagination import AtlasPagination
from server.parsers import AtlasFormParser, AtlasJSONParser, AtlasMultiPartParser
from server.schema import ERROR
from server.validators import FullMatchValidator
from workers.api.serializers import JobOutputSerializer, NetworkOutputSerializer
from workers.services.networks import (
    ARCHITECTURES,
    MAX_INPUT_SIZE,
    MAX_RANDOM_SEED,
    MIN_INPUT_SIZE,
    NAME_PATTERN,
)


class NetworkRegisterInputSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=100,
        validators=[
            FullMatchValidator(
                NAME_PATTERN.pattern,
                "Use 1-100 lowercase letters, digits, '-' or '_', starting with a letter or digit.",
            )
        ],
    )
    arch = serializers.ChoiceField(choices=ARCHITECTURES, required=False)
    weights = UploadField(required=False, help_text="A state dict (.pt, .safetensors).")
    bundled_weights = serializers.BooleanField(required=False, default=False)
    random_weights = serializers.BooleanField(required=False, default=False)
    seed = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=MAX_RANDOM_SEED
    )
    torchscript = UploadField(required=False)
    input_size = serializers.IntegerField(
        required=False, default=224, min_value=MIN_INPUT_SIZE, max_value=MAX_INPUT_SIZE
    )
    description = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=text_limits.DESCRIPTION
    )


class NetworkRegistrationOutputSerializer(serializers.Serializer):
    network = NetworkOutputSerializer(help_text="The network, status 'inspecting'.")
    job = JobOutputSerializer(
        help_text="The inspect_network job: when it succeeds the network is 'ready' with its "
        "layers and units; when it fails the network is 'failed' and the job's error says why."
    )


class ProjectNetworksView(ProjectView):
    """The networks a project studies; registering a new one adds it to the project."""

    project_actions = {"POST": "network.register"}
    pagination_class = AtlasPagination
    parser_classes = [AtlasMultiPartParser, AtlasFormParser, AtlasJSONParser]
    body_limit_setting = "ATLAS_MAX_UPLOAD_BYTES"

    @extend_schema(
        operation_id="projects_networks_list",
        responses={200: ProjectNetworkOutputSerializer(many=True), 401: ERROR, 404: ERROR},
        description="The networks the project studies, with their layer and unit counts.",
    )
    def get(self, request, slug):
        return self.page_response(
            project_networks(project=self.project), ProjectNetworkOutputSerializer
        )

    @extend_schema(
        operation_id="projects_networks_register",
        request={"multipart/form-data": NetworkRegisterInputSerializer},
        responses={
            202: NetworkRegistrationOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
        description="Register a network from uploaded weights, the bundled weights, random "
        "weights or a TorchScript file, and add it to the project. The request is checked and "
        "the file stored at once; a worker's inspect_network job (in the answer, and at the "
        "Location header) then measures the layers: weights load only with "
        "torch.load(weights_only=True) or safetensors, and a TorchScript forward runs once in "
        "a child process with a time and memory limit. While the job runs the network is "
        "'inspecting' and has no layers; it becomes 'ready' with every layer and unit when the "
        "job succeeds, or 'failed' with the reason in the job's error and error_code (such as "
        "inspection_timeout, invalid_layer_name, unsafe_file); registering the same name again "
        "replaces a failed network.",
    )
    def post(self, request, slug):
        payload = NetworkRegisterInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        network, job = project_network_request(
            project=self.project,
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
        network.layer_count = 0
        body = {"network": network, "job": job}
        return Response(
            NetworkRegistrationOutputSerializer(body, context={"unit_counts": {}}).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("workers-api:job-detail", kwargs={"job_id": job.pk})},
        )
