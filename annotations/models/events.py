"""The append-only record of every change: who did what to which object, before and after."""

from django.conf import settings
from django.db import models

from annotations.models.projects import Project


class Event(models.Model):
    """One change. Written by services only, never updated or deleted."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "<object>.<what happened>", e.g. "group.renamed", "unit.assigned", "hypothesis.accepted".
    verb = models.CharField(max_length=60)
    # What the change was about: "group", "unit", "hypothesis", "comment", "project", ...
    target_type = models.CharField(max_length=30)
    target_id = models.BigIntegerField()
    # How the target read at the time ("Curves", "mixed3b:379"), for feeds without joins.
    target_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"]),
            models.Index(fields=["target_type", "target_id", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.verb} {self.target_type}:{self.target_id}"
