"""Blind labelling rounds: several annotators label the same units without seeing each other's
labels; on close the round records their agreement, and a reviewer decides where they differ."""

from django.conf import settings
from django.db import models

from annotations.models.projects import Project
from annotations.models.taxonomy import Group
from workers.models import Layer, Network, Unit


class LabellingRound(models.Model):
    """A round on units of one network (a layer's units, or a chosen set), for chosen
    participants, choosing among a snapshot of project groups plus "other"."""

    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="rounds")
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    # The layer whose units make the round, or None for an explicit set of units.
    layer = models.ForeignKey(
        Layer, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    # The groups to choose from, as they were named when the round opened: [{"id", "name"}];
    # "other" is always a choice as well. A snapshot, so that scores keep their names.
    groups = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # The agreement summary written on close (``annotations/formats/agreement.py``).
    agreement = models.JSONField(null=True, blank=True)

    event_type = "round"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "status"])]

    def __str__(self):
        return self.title


class RoundParticipant(models.Model):
    round = models.ForeignKey(LabellingRound, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round_id", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="round_participant_unique"),
        ]

    def __str__(self):
        return f"{self.user_id} in round {self.round_id}"


class RoundUnit(models.Model):
    """A unit of the round, and the reviewer's decision on it where the labels disagreed."""

    round = models.ForeignKey(LabellingRound, on_delete=models.CASCADE, related_name="units")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    decided = models.BooleanField(default=False)
    # The group decided (None with ``decided``: "other", the unit keeps its group); a bare
    # id, so that deleting the group later does not rewrite the round's history.
    decided_group = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round_id", "unit__layer__order", "unit__index"]
        constraints = [
            models.UniqueConstraint(fields=["round", "unit"], name="round_unit_unique"),
        ]

    def __str__(self):
        return f"{self.unit_id} in round {self.round_id}"


class RoundLabel(models.Model):
    """One participant's choice for one unit of a round: a group id of the round's choices,
    or None for "other". Private to its author until the round closes."""

    round = models.ForeignKey(LabellingRound, on_delete=models.CASCADE, related_name="labels")
    participant = models.ForeignKey(
        RoundParticipant, on_delete=models.CASCADE, related_name="labels"
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["round_id", "participant_id", "unit_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "unit"], name="round_label_one_per_unit"
            ),
        ]
        indexes = [models.Index(fields=["round", "unit"])]

    def __str__(self):
        return f"{self.participant_id}: {self.unit_id} → {self.group_id}"
