"""Catalog and jobs endpoints: parse, call one selector or service, render."""

from django.db.models import Count
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from server.schema import ERROR
from workers import access
from workers.api.filters import JobFilter, UnitFilter
from workers.api.serializers import (
    ArtifactOutputSerializer,
    DatasetOutputSerializer,
    JobInputSerializer,
    JobOutputSerializer,
    LayerOutputSerializer,
    LayerSpriteOutputSerializer,
    NetworkOutputSerializer,
    UnitCardOutputSerializer,
    UnitOutputSerializer,
)
from workers.models import Artifact, Job, Layer, Unit
from workers.selectors.artifacts import (
    layer_sprite,
    unit_card,
    unit_dataset_evidence,
    unit_resemblances,
)
from workers.selectors.catalog import (
    layer_get,
    layers_of,
    network_get_for_user,
    networks_for_user,
    unit_get,
    units_of,
)
from workers.selectors.jobs import (
    artifact_get_for_user,
    artifacts_of,
    job_get_for_user,
    jobs_cancellable_by,
    jobs_for_user,
)
from workers.services.jobs import job_cancel, job_request

# The kinds whose renderer adds a layer sprite sheet (workers/renderers/*: add_layer_sprite).
SPRITE_KINDS = sorted(
    (
        Job.Kind.DATASET_EXAMPLES,
        Job.Kind.FEATURE_VISUALIZATION,
        Job.Kind.FIRST_LAYER_WEIGHTS,
        Job.Kind.WEIGHTS,
    )
)


class SpriteQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SPRITE_KINDS, help_text="The job kind that drew it.")
    job = serializers.IntegerField(required=False, min_value=1, help_text="A specific job.")


def _unit_counts(network_ids):
    rows = (
        Unit.objects.filter(network_id__in=network_ids)
        .values("network_id")
        .annotate(total=Count("id"))
    )
    return {row["network_id"]: row["total"] for row in rows}


# Views under /networks/<name>/ resolve the network once, before the handler, as the project
# views do (annotations/api/views/base.py): missing and not visible are the same 404. No
# docstring: drf-spectacular would describe every operation with it.
class NetworkView(GenericAPIView):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        handler = request.method.lower()
        if handler != "options" and handler in self.http_method_names and hasattr(self, handler):
            self.network = network_get_for_user(user=request.user, name=kwargs["name"])


class NetworkListView(GenericAPIView):
    serializer_class = NetworkOutputSerializer

    def get_queryset(self):
        return networks_for_user(user=self.request.user)

    @extend_schema(
        operation_id="networks_list", responses={200: NetworkOutputSerializer(many=True)}
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        context = {"unit_counts": _unit_counts([network.pk for network in page])}
        return self.get_paginated_response(
            NetworkOutputSerializer(page, many=True, context=context).data
        )


class NetworkDetailView(NetworkView):
    serializer_class = NetworkOutputSerializer

    @extend_schema(
        operation_id="networks_retrieve", responses={200: NetworkOutputSerializer, 404: ERROR}
    )
    def get(self, request, name):
        network = self.network
        network.layer_count = network.layers.count()
        context = {"unit_counts": _unit_counts([network.pk])}
        return Response(NetworkOutputSerializer(network, context=context).data)


class LayerListView(NetworkView):
    serializer_class = LayerOutputSerializer
    queryset = Layer.objects.none()
    pagination_class = None

    @extend_schema(
        operation_id="networks_layers_list",
        responses={200: LayerOutputSerializer(many=True), 404: ERROR},
    )
    def get(self, request, name):
        return Response(LayerOutputSerializer(layers_of(network=self.network), many=True).data)


class LayerDetailView(NetworkView):
    serializer_class = LayerOutputSerializer

    @extend_schema(
        operation_id="networks_layers_retrieve", responses={200: LayerOutputSerializer, 404: ERROR}
    )
    def get(self, request, name, layer):
        return Response(LayerOutputSerializer(layer_get(network=self.network, name=layer)).data)


class UnitListView(NetworkView):
    serializer_class = UnitOutputSerializer
    filterset_class = UnitFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Unit.objects.none()
        return units_of(network=self.network)

    @extend_schema(
        operation_id="networks_units_list",
        responses={200: UnitOutputSerializer(many=True), 404: ERROR},
    )
    def get(self, request, name):
        units = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(units)
        return self.get_paginated_response(UnitOutputSerializer(page, many=True).data)


class UnitDetailView(NetworkView):
    serializer_class = UnitOutputSerializer

    @extend_schema(
        operation_id="networks_units_retrieve",
        responses={200: UnitOutputSerializer, 400: ERROR, 404: ERROR},
    )
    def get(self, request, name, address):
        unit = unit_get(network=self.network, address=address)
        return Response(UnitOutputSerializer(unit).data)


def _job_output(user, job):
    context = {"cancellable": jobs_cancellable_by(user=user, jobs=[job])}
    return JobOutputSerializer(job, context=context).data


class JobListCreateView(GenericAPIView):
    serializer_class = JobOutputSerializer
    filterset_class = JobFilter

    def get_queryset(self):
        return jobs_for_user(user=self.request.user)

    @extend_schema(operation_id="jobs_list", responses={200: JobOutputSerializer(many=True)})
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {"cancellable": jobs_cancellable_by(user=request.user, jobs=page)}
        return self.get_paginated_response(
            JobOutputSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        request=JobInputSerializer,
        responses={
            201: OpenApiResponse(JobOutputSerializer, description="A new job was queued."),
            200: OpenApiResponse(JobOutputSerializer, description="An identical job exists."),
            400: ERROR,
            403: ERROR,
            404: ERROR,
        },
    )
    def post(self, request):
        payload = JobInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        network = network_get_for_user(user=request.user, name=data["network"])
        job, created = job_request(
            network=network,
            kind=data["kind"],
            layer_name=data.get("layer"),
            unit_indices=data.get("units"),
            params=data.get("params"),
            actor=request.user,
        )
        return Response(
            _job_output(request.user, job),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class JobDetailView(GenericAPIView):
    serializer_class = JobOutputSerializer

    @extend_schema(operation_id="jobs_retrieve", responses={200: JobOutputSerializer, 404: ERROR})
    def get(self, request, job_id):
        return Response(
            _job_output(request.user, job_get_for_user(user=request.user, job_id=job_id))
        )


class JobCancelView(GenericAPIView):
    serializer_class = JobOutputSerializer

    @extend_schema(
        request=None, responses={200: JobOutputSerializer, 403: ERROR, 404: ERROR, 409: ERROR}
    )
    def post(self, request, job_id):
        job = job_get_for_user(user=request.user, job_id=job_id)
        job = job_cancel(job=job, actor=request.user)
        return Response(
            _job_output(request.user, job_get_for_user(user=request.user, job_id=job.pk))
        )


class DatasetListView(GenericAPIView):
    serializer_class = DatasetOutputSerializer

    def get_queryset(self):
        return access.datasets_visible_to(self.request.user)

    @extend_schema(
        operation_id="datasets_list",
        responses={200: DatasetOutputSerializer(many=True)},
        description="The registered datasets the user may search in dataset-examples and "
        "universality jobs (public ones and those of the user's projects). The built-in "
        "'demo' dataset is always available and not listed.",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DatasetOutputSerializer(page, many=True).data)


class JobArtifactListView(GenericAPIView):
    serializer_class = ArtifactOutputSerializer
    queryset = Artifact.objects.none()
    pagination_class = None

    @extend_schema(responses={200: ArtifactOutputSerializer(many=True), 404: ERROR})
    def get(self, request, job_id):
        job = job_get_for_user(user=request.user, job_id=job_id)
        return Response(ArtifactOutputSerializer(artifacts_of(job=job), many=True).data)


ARTIFACT_FILE = (
    "The artifact's file, in the content type its kind writes: an image (PNG, or SVG for "
    "tuning plots), a JSON document of statistics or results, or raw tensors."
)


class ArtifactDownloadView(GenericAPIView):
    serializer_class = None

    @extend_schema(
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description=ARTIFACT_FILE),
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.BINARY, description=ARTIFACT_FILE),
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description=ARTIFACT_FILE
            ),
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description=ARTIFACT_FILE
            ),
        }
    )
    def get(self, request, artifact_id):
        artifact = artifact_get_for_user(user=request.user, artifact_id=artifact_id)
        return FileResponse(
            artifact.file.open("rb"),
            content_type=artifact.content_type,
            filename=artifact.file.name.rsplit("/", 1)[-1],
        )


class UnitCardView(NetworkView):
    serializer_class = UnitCardOutputSerializer

    @extend_schema(
        operation_id="networks_units_card",
        responses={200: UnitCardOutputSerializer, 400: ERROR, 404: ERROR},
        description="Every artifact of a unit in one response: for each job kind and "
        "parameter set, the artifacts of the latest job that rendered it (dataset examples: "
        "the strongest, 'top', first); the units of other layers it resembles (best matches "
        "of universality jobs, best r first); and, per dataset its examples were searched on, "
        "whether it ever fired there and the distribution of its activation.",
    )
    def get(self, request, name, address):
        unit = unit_get(network=self.network, address=address)
        renderings = unit_card(unit=unit)
        fired_on, distributions = unit_dataset_evidence(renderings=renderings)
        card = {
            "unit": unit,
            "renderings": renderings,
            "resembles": unit_resemblances(unit=unit, user=request.user),
            "fired_on": fired_on,
            "activation_distributions": distributions,
        }
        return Response(UnitCardOutputSerializer(card).data)


class LayerSpriteView(NetworkView):
    serializer_class = LayerSpriteOutputSerializer

    @extend_schema(
        operation_id="networks_layers_sprite",
        parameters=[SpriteQuerySerializer],
        responses={200: LayerSpriteOutputSerializer, 400: ERROR, 404: ERROR},
        description="A layer's sprite sheet (one image with every unit's thumbnail) and its "
        "index of positions, inline: a whole layer grid in two requests.",
    )
    def get(self, request, name, layer):
        query = SpriteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        job, sprite, index = layer_sprite(
            layer=layer_get(network=self.network, name=layer),
            kind=query.validated_data["kind"],
            job_id=query.validated_data.get("job"),
        )
        body = {"job": job, "sprite": sprite, "index": index}
        return Response(LayerSpriteOutputSerializer(body).data)
