"""Hypotheses about units and groups, and the reviews that accept or reject them."""

from django.conf import settings
from django.db import models

from annotations.models.circuits import Circuit
from annotations.models.projects import Project
from annotations.models.taxonomy import Group
from workers.models import Network, Unit


class Hypothesis(models.Model):
    """A claim about units of one network (or about a group), with evidence, optionally
    proposing a group for its units; accepted by reviews, which then apply the proposal."""

    class Status(models.TextChoices):
        OPEN = "open"
        ACCEPTED = "accepted"
        REJECTED = "rejected"
        WITHDRAWN = "withdrawn"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="hypotheses")
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True, help_text="Markdown, stored as written.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    # The group the hypothesis is about, if any ("Curves are really two families").
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The circuit the hypothesis is about, if any ("these six units detect curves").
    circuit = models.ForeignKey(
        Circuit, null=True, blank=True, on_delete=models.SET_NULL, related_name="hypotheses"
    )
    # The proposal: an existing group for every unit, or a new group created on acceptance
    # ({"name", "parent", "description", "color"}); after acceptance ``proposed_group`` is the
    # group it created. No database constraint: deleting or merging a group must not be
    # blocked by an old hypothesis, and acceptance re-reads the group and refuses when it is
    # gone.
    proposed_group = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    new_group = models.JSONField(null=True, blank=True)
    # The evidence for the claim, in the order the author chose it: artifact ids (renders of
    # the hypothesis' units or of their layers) and circuit ids (of the project). Ids, not
    # foreign keys: a re-rendered or deleted artifact must not delete or block the claim; the
    # detail marks an item whose artifact is gone.
    evidence = models.JSONField(default=list, blank=True)
    evidence_circuits = models.JSONField(default=list, blank=True)
    # Counts revisions: 1 as written, +1 per revision. Reviews record the version they read;
    # status changes are guarded by the status itself and leave the version alone.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "hypotheses"
        indexes = [models.Index(fields=["project", "status", "created_at"])]

    def __str__(self):
        return self.title


class HypothesisUnit(models.Model):
    """A unit the hypothesis is about, and its group when the hypothesis was last written."""

    hypothesis = models.ForeignKey(Hypothesis, on_delete=models.CASCADE, related_name="units")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    # The unit's accepted group when the hypothesis was written or revised (None: no group).
    # Kept as a bare id, so that acceptance still notices a unit whose group was deleted.
    expected_group = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        ordering = ["hypothesis_id", "unit__layer__order", "unit__index"]
        constraints = [
            models.UniqueConstraint(
                fields=["hypothesis", "unit"], name="hypothesis_unit_unique_pair"
            ),
        ]
        # The layer grid counts each unit's open hypotheses from the unit's side.
        indexes = [models.Index(fields=["unit", "hypothesis"], name="hypothesis_unit_by_unit")]

    def __str__(self):
        return f"{self.unit_id} in {self.hypothesis_id}"


class Review(models.Model):
    """A reviewer's verdict on one version of a hypothesis. A reviewer's latest review of the
    current version is their verdict; reviews of earlier versions no longer count."""

    class Verdict(models.TextChoices):
        APPROVE = "approve"
        REQUEST_CHANGES = "request_changes"
        REJECT = "reject"

    hypothesis = models.ForeignKey(Hypothesis, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    comment = models.TextField(blank=True)
    version = models.PositiveIntegerField(help_text="The hypothesis version reviewed.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["hypothesis", "version", "reviewer"])]

    def __str__(self):
        return f"{self.verdict} on {self.hypothesis_id} v{self.version}"
