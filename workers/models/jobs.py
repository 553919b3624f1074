"""Render jobs, the artifacts they write, and the workers that run them."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from workers.models.catalog import Layer, Network, Unit


class Job(models.Model):
    class Kind(models.TextChoices):
        FIRST_LAYER_WEIGHTS = "first_layer_weights", "first-layer weights as RGB images"
        FEATURE_VISUALIZATION = "feature_visualization", "feature visualization"
        DATASET_EXAMPLES = "dataset_examples", "dataset examples"
        WEIGHTS = "weights", "weights from the previous layer"
        UNIVERSALITY = "universality", "correlation with another layer's units"
        CONNECTIONS = "connections", "every weight into a layer from an earlier layer"
        TUNING = "tuning", "tuning curves from synthetic stimuli"
        INSPECT_NETWORK = "inspect_network", "inspection of a newly registered network"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)
    REUSABLE_STATUSES = (Status.QUEUED, Status.RUNNING, Status.SUCCEEDED)

    kind = models.CharField(max_length=40, choices=Kind.choices)
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="jobs")
    # None for a job on the whole network (inspect_network, which creates the layers).
    layer = models.ForeignKey(
        Layer, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    # None targets every unit of the layer; otherwise the sorted unit indices.
    unit_indices = models.JSONField(null=True, blank=True)
    params = models.JSONField(default=dict)
    params_hash = models.CharField(max_length=64)
    # Hash of kind + target + params: two requests with the same request_hash are one job.
    request_hash = models.CharField(max_length=64)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=200, blank=True)
    # Claims that ended with the worker lost (or that are running now); a claim given back
    # after a transient error (a dropped database connection) is not counted.
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    # Claims given back after a transient error, bounded by ATLAS_JOB_MAX_TRANSIENT_RETRIES.
    transient_retries = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=40, blank=True)

    worker = models.CharField(max_length=200, blank=True)
    device = models.CharField(max_length=40, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the job was last handed to the broker; null while that failed (the sweep sends it).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Seconds spent in each phase of the last attempt ({"load": 0.4, "compute": 1.2, ...}).
    timings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_hash"],
                condition=Q(status__in=["queued", "running", "succeeded"]),
                name="job_one_live_per_request",
            ),
        ]
        indexes = [models.Index(fields=["status", "lease_expires_at"])]

    def __str__(self):
        return f"job {self.pk} {self.kind} {self.layer_id} [{self.status}]"

    @property
    def is_finished(self):
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED)


class Artifact(models.Model):
    class Kind(models.TextChoices):
        UNIT_IMAGE = "unit_image"
        UNIT_JSON = "unit_json"
        LAYER_SPRITE = "layer_sprite"
        LAYER_INDEX = "layer_index"
        LAYER_DATA = "layer_data"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="artifacts")
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="artifacts")
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="artifacts")
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="artifacts"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # Which picture of the unit: "positive", "negative", "diversity-2", "top", "incoming", ...
    variant = models.CharField(max_length=40, blank=True)
    file = models.FileField(max_length=300)
    content_type = models.CharField(max_length=60)
    size_bytes = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    params = models.JSONField(default=dict)
    # A few numbers worth showing without opening the file (final activation, top value, ...).
    meta = models.JSONField(default=dict, blank=True)
    code_version = models.CharField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["layer_id", "unit_id", "kind", "variant"]
        constraints = [
            # A re-run of a job (after a crash) replaces its artifacts instead of adding more.
            models.UniqueConstraint(
                fields=["job", "unit", "kind", "variant"],
                condition=Q(unit__isnull=False),
                name="artifact_one_per_job_unit_kind",
            ),
            # A job over several layers writes one sprite sheet (and index) per layer.
            models.UniqueConstraint(
                fields=["job", "layer", "kind", "variant"],
                condition=Q(unit__isnull=True),
                name="artifact_one_per_job_layer_kind",
            ),
        ]
        indexes = [models.Index(fields=["unit", "kind"])]

    def __str__(self):
        return f"{self.kind} {self.file.name}"


class WorkerHeartbeat(models.Model):
    """A live worker process, as it last reported itself."""

    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    queues = models.JSONField(default=list)
    device = models.CharField(max_length=40)
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["hostname", "pid"]
        constraints = [
            models.UniqueConstraint(fields=["hostname", "pid"], name="worker_unique_process"),
        ]

    def __str__(self):
        return f"{self.hostname} pid {self.pid} ({self.device})"
