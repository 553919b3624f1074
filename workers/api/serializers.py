"""Input and output shapes of the catalog and jobs API."""

from django.urls import reverse
from rest_framework import serializers

from workers.addresses import UnitAddress
from workers.jobkinds import REQUESTABLE_KINDS, params_help
from workers.models import Artifact, Dataset, Job, Layer, Network, Unit


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
    layer = serializers.CharField(
        max_length=100,
        required=False,
        allow_null=True,
        default=None,
        help_text="The layer to render. Omitted or null: a job over several layers at once "
        "(dataset_examples only: the layers of its `layers` parameter, by default every "
        "studied layer, in one pass).",
    )
    units = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=2**31 - 1),
        required=False,
        allow_null=True,
        min_length=1,
        max_length=100_000,
        help_text="Unit indices of the layer; omit for every unit.",
    )
    params = serializers.DictField(required=False, default=dict, help_text=params_help())


class JobOutputSerializer(serializers.ModelSerializer):
    network = serializers.CharField(source="network.name")
    layer = serializers.CharField(
        source="layer.name", allow_null=True, help_text="None for a job on the whole network."
    )
    units = serializers.JSONField(source="unit_indices")
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    artifacts_url = serializers.SerializerMethodField()
    can_cancel = serializers.SerializerMethodField(
        help_text="Whether the requesting user may cancel the job now: it is queued or running "
        "and the project policy allows them (their own job, or a reviewer or owner). False "
        "where the response is not for a particular user."
    )

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
            "can_cancel",
        ]

    def get_artifacts_url(self, job) -> str:
        return reverse("workers-api:job-artifacts", kwargs={"job_id": job.pk})

    def get_can_cancel(self, job) -> bool:
        # The view works out the set for the whole page at once (jobs_cancellable_by).
        return job.pk in self.context.get("cancellable", ())


class DatasetOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = ["name", "description", "image_count", "public", "created_at"]


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


class FiredOnOutputSerializer(serializers.Serializer):
    dataset = serializers.CharField()
    images = serializers.IntegerField(
        min_value=0, help_text="On how many images the unit fired: its spatial max above 0."
    )
    of = serializers.IntegerField(min_value=0, help_text="How many images were searched.")
    never_fired = serializers.BooleanField(
        help_text="True when it fired on none: its dataset examples are then arbitrary."
    )


class UnitFiredOnOutputSerializer(FiredOnOutputSerializer):
    job = serializers.IntegerField(help_text="The dataset-examples job that found it.")


class ClassMeanOutputSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="A class: a subfolder of the dataset.")
    mean = serializers.FloatField(help_text="The unit's mean spatial max on its images.")
    images = serializers.IntegerField(min_value=0)


class ActivationDistributionOutputSerializer(serializers.Serializer):
    dataset = serializers.CharField()
    job = serializers.IntegerField(help_text="The dataset-examples job that measured it.")
    artifact = serializers.IntegerField(help_text="The artifact that stores it.")
    quantity = serializers.CharField(help_text="What is counted.")
    images = serializers.IntegerField(min_value=0)
    bins = serializers.IntegerField(min_value=1)
    low = serializers.FloatField(allow_null=True, help_text="The first bin's lower edge.")
    high = serializers.FloatField(allow_null=True, help_text="The last bin's upper edge.")
    counts = serializers.ListField(
        child=serializers.IntegerField(min_value=0),
        help_text="Images per bin; bins of equal width from low to high.",
    )
    top = serializers.ListField(
        child=serializers.FloatField(), help_text="The values of the shown top examples."
    )
    bottom = serializers.ListField(
        child=serializers.FloatField(), help_text="The values of the shown bottom examples."
    )
    classes = ClassMeanOutputSerializer(
        many=True,
        allow_null=True,
        help_text="For a dataset in class subfolders, the (up to) 5 classes with the highest "
        "mean; null for a dataset without classes.",
    )


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
    fired_on = UnitFiredOnOutputSerializer(
        many=True,
        help_text="Per dataset searched (newest job first): whether the unit ever fired there.",
    )
    activation_distributions = ActivationDistributionOutputSerializer(
        many=True,
        help_text="Per dataset searched (newest job first): the histogram of the unit's "
        "spatial-max activation over its images, where the shown examples fall, and the "
        "classes it is highest on.",
    )

    def get_address(self, card) -> str:
        return str(card["unit"].address)


class LayerSpriteOutputSerializer(serializers.Serializer):
    job = serializers.IntegerField(source="job.pk")
    kind = serializers.CharField(source="job.kind")
    params = serializers.JSONField(source="job.params")
    sprite = ArtifactOutputSerializer()
    index = serializers.JSONField(help_text="Tile size, columns and each unit's x, y.")
