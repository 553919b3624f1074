"""The project's taxonomy: a tree of neuron groups, and each unit's accepted group."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.models.projects import Project
from workers.models import Layer, Unit


class Group(models.Model):
    """A neuron group ("Curves", "Color contrast"); "Other units" is an ordinary group."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="groups")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="Markdown.")
    color = models.CharField(max_length=7, default="#888888", help_text="#rrggbb")
    order = models.IntegerField(default=0)
    # A group may be meant for one layer only (the Early Vision groups are per layer).
    layer = models.ForeignKey(
        Layer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id", "order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "parent", "name"],
                condition=Q(parent__isnull=False),
                name="group_unique_name_among_siblings",
            ),
            models.UniqueConstraint(
                fields=["project", "name"],
                condition=Q(parent__isnull=True),
                name="group_unique_name_at_root",
            ),
        ]

    def __str__(self):
        return self.name


class Assignment(models.Model):
    """A unit's accepted group in a project: at most one per unit and project."""

    class Source(models.TextChoices):
        DIRECT = "direct"
        HYPOTHESIS = "hypothesis"
        IMPORT = "import"
        ROUND = "round"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="assignments")
    note = models.TextField(blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.DIRECT)
    # The hypothesis whose acceptance made this assignment, if any (a labelling round's
    # decision names its round in the unit's event).
    hypothesis_id = models.BigIntegerField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["project_id", "unit_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "unit"], name="assignment_one_per_unit"),
        ]
        indexes = [models.Index(fields=["project", "group"])]

    def __str__(self):
        return f"{self.unit_id} → {self.group_id}"
