"""Input and output shapes of the catalog and jobs API."""

from django.urls import reverse
from rest_framework import serializers

from workers.addresses import UnitAddress
from workers.jobkinds import REQUESTABLE_KINDS
from workers.models import Artifact, Job, Layer, Network, Unit


class NetworkOutputSerializer(serializers.ModelSerializer):
    layer_count = serializers.IntegerField(read_only=True)
    unit_count = serializers.SerializerMethodField()

    class Meta:
        model = Network
        fields = [
            "id",
            "name",
            "source",
            "arch",
            "weights_sha256",
            "random_seed",
            "input_size",
            "description",
            "status",
            "created_at",
            "layer_count",
            "unit_count",
        ]

    def get_unit_count(self, network) -> int:
        counts = self.context.get("unit_counts")
        if counts is not None:
            return counts.get(network.pk, 0)
        return network.units.count()


class LayerOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Layer
        fields = [
            "id",
            "name",
            "kind",
            "order",
            "channels",
            "height",
            "width",
            "receptive_field",
            "stride",
        ]


class UnitOutputSerializer(serializers.ModelSerializer):
    layer = serializers.CharField(source="layer.name")
    address = serializers.SerializerMethodField()

    class Meta:
        model = Unit
        fields = ["id", "layer", "index", "address"]

    def get_address(self, unit) -> str:
        return str(unit.address)


class JobInputSerializer(serializers.Serializer):
    network = serializers.SlugField(max_length=100, help_text="The network's name.")
    kind = serializers.ChoiceField(choices=REQUESTABLE_KINDS)
    layer = serializers.CharField(max_length=100)
    units = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=2**31 - 1),
        required=False,
        allow_null=True,
        min_length=1,
        max_length=100_000,
        help_text="Unit indices of the layer; omit for every unit.",
    )
    params = serializers.DictField(required=False, default=dict)


class JobOutputSerializer(serializers.ModelSerializer):
    network = serializers.CharField(source="network.name")
    layer = serializers.CharField(
        source="layer.name", allow_null=True, help_text="None for a job on the whole network."
    )
    units = serializers.JSONField(source="unit_indices")
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    artifacts_url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "network",
            "layer",
            "units",
            "params",
            "params_hash",
            "status",
            "progress",
            "progress_message",
            "attempts",
            "max_attempts",
            "cancel_requested",
            "error",
            "error_code",
            "worker",
            "device",
            "created_by",
            "created_at",
            "enqueued_at",
            "started_at",
            "finished_at",
            "timings",
            "artifacts_url",
        ]

    def get_artifacts_url(self, job) -> str:
        return reverse("workers-api:job-artifacts", kwargs={"job_id": job.pk})


class ArtifactOutputSerializer(serializers.ModelSerializer):
    unit = serializers.SerializerMethodField()
    layer = serializers.CharField(source="layer.name")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Artifact
        fields = [
            "id",
            "kind",
            "variant",
            "layer",
            "unit",
            "content_type",
            "size_bytes",
            "sha256",
            "params",
            "meta",
            "code_version",
            "created_at",
            "download_url",
        ]

    def get_unit(self, artifact) -> str | None:
        if artifact.unit is None:
            return None
        # The artifact's layer is loaded with it; the unit's is not.
        return str(UnitAddress(artifact.layer.name, artifact.unit.index))

    def get_download_url(self, artifact) -> str:
        return reverse("workers-api:artifact-download", kwargs={"artifact_id": artifact.pk})


class RenderingOutputSerializer(serializers.Serializer):
    job = serializers.IntegerField(source="job.pk")
    kind = serializers.CharField(source="job.kind")
    status = serializers.CharField(source="job.status")
    params = serializers.JSONField(source="job.params")
    artifacts = ArtifactOutputSerializer(many=True)


class ResemblanceOutputSerializer(serializers.Serializer):
    network = serializers.CharField()
    layer = serializers.CharField()
    unit = serializers.IntegerField()
    address = serializers.CharField()
    r = serializers.FloatField(help_text="Pearson correlation of spatially pooled activations.")
    dataset = serializers.CharField()
    job = serializers.IntegerField(help_text="The universality job that measured it.")
    text = serializers.CharField(help_text="'mobilenet-v2 features.3:17, r = 0.81'.")


class UnitCardOutputSerializer(serializers.Serializer):
    network = serializers.CharField(source="unit.network.name")
    layer = LayerOutputSerializer(source="unit.layer")
    index = serializers.IntegerField(source="unit.index")
    address = serializers.SerializerMethodField()
    renderings = RenderingOutputSerializer(many=True)
    resembles = ResemblanceOutputSerializer(
        many=True,
        help_text="Units of other layers this unit correlates with best, from universality jobs.",
    )

    def get_address(self, card) -> str:
        return str(card["unit"].address)


class LayerSpriteOutputSerializer(serializers.Serializer):
    job = serializers.IntegerField(source="job.pk")
    kind = serializers.CharField(source="job.kind")
    params = serializers.JSONField(source="job.params")
    sprite = ArtifactOutputSerializer()
    index = serializers.JSONField(help_text="Tile size, columns and each unit's x, y.")
