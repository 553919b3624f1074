"""Releases: frozen, citable snapshots of a project's taxonomy (its groups and assignments)."""

from django.conf import settings
from django.db import models

from annotations.models.projects import Project
from workers.models import Layer, Unit


class Release(models.Model):
    """A named snapshot of the taxonomy. Written once by ``release_create``, never changed:
    no service edits a release, and its rows below are copies, not references to live groups."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="releases")
    name = models.CharField(max_length=60)
    notes = models.TextField(blank=True, help_text="Markdown, stored as written.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The hypotheses (with their reviews) as the JSON export writes them, keyed by network
    # name: few per project, and frozen with their status at release time.
    hypotheses = models.JSONField(default=dict, blank=True)
    # The circuits (with nodes and edges) as the JSON export writes them, keyed by network
    # name, and the confirmed universality links as a list of export documents.
    circuits = models.JSONField(default=dict, blank=True)
    links = models.JSONField(default=list, blank=True)
    # The closed labelling rounds with their agreement scores, keyed by network name, as the
    # JSON export writes them (``round_documents``).
    rounds = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["project_id", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="release_unique_name"),
        ]

    def __str__(self):
        return f"{self.project_id}@{self.name}"

    @property
    def event_label(self):
        return self.name


class ReleaseGroup(models.Model):
    """A group as it was in the release. ``key`` is the live group's id: the stable identity
    that release diffs follow through renames and moves."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="groups")
    key = models.BigIntegerField()
    parent_key = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    color = models.CharField(max_length=7)
    order = models.IntegerField()
    layer = models.ForeignKey(
        Layer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["release_id", "order", "name", "key"]
        constraints = [
            models.UniqueConstraint(fields=["release", "key"], name="release_group_unique_key"),
        ]

    def __str__(self):
        return f"{self.name} in {self.release_id}"


class ReleaseAssignment(models.Model):
    """A unit's group in the release, with who put it there (a username, kept even if the
    account goes) and when."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    group_key = models.BigIntegerField()
    note = models.TextField(blank=True)
    assigned_by = models.CharField(max_length=150, blank=True)
    assigned_at = models.DateTimeField()

    class Meta:
        ordering = ["release_id", "unit_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "unit"], name="release_assignment_one_per_unit"
            ),
        ]

    def __str__(self):
        return f"{self.unit_id} → {self.group_key} in {self.release_id}"
