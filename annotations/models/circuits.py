"""Circuits (named subgraphs of one network's units joined by weights) and universality links
(two units or groups, usually of different networks, claimed to be the same feature)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.models.projects import Project
from annotations.models.taxonomy import Group
from workers.models import Network, Unit


class Circuit(models.Model):
    """A named subgraph of the units of one network, across one or more layers."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="circuits")
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="Markdown.")
    # Bumped by every change to the circuit, its nodes or its edges (If-Match / ETag).
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="circuit_unique_name"),
        ]

    def __str__(self):
        return self.name


class CircuitNode(models.Model):
    """A unit in a circuit, with what it does there ("detects curves facing left")."""

    circuit = models.ForeignKey(Circuit, on_delete=models.CASCADE, related_name="nodes")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    role = models.TextField(blank=True)

    class Meta:
        ordering = ["circuit_id", "unit__layer__order", "unit__index"]
        constraints = [
            models.UniqueConstraint(fields=["circuit", "unit"], name="circuit_node_unique_unit"),
        ]

    def __str__(self):
        return f"{self.unit_id} in {self.circuit_id}"


class CircuitEdge(models.Model):
    """The weight from a unit of an earlier layer to a unit of a later one, as the engine
    computed it (``workers.engine.weights.unit_weights``).

    magnitude: the L2 norm of the kernel. sign: the sign of the kernel's sum (+1 excites,
    −1 inhibits, 0 when the sum is exactly zero). kind: "direct" across one convolution,
    "expanded" through the linearised network otherwise.
    """

    class Kind(models.TextChoices):
        DIRECT = "direct"
        EXPANDED = "expanded"

    circuit = models.ForeignKey(Circuit, on_delete=models.CASCADE, related_name="edges")
    source = models.ForeignKey(CircuitNode, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(CircuitNode, on_delete=models.CASCADE, related_name="+")
    magnitude = models.FloatField()
    sign = models.SmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The kernel as rows of floats ([kh][kw]): how the target responds to the source at each
    # nearby position.
    kernel = models.JSONField()
    # Where the numbers came from: the engine function, the network's weights and the layers.
    origin = models.JSONField(default=dict)

    class Meta:
        ordering = ["circuit_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["circuit", "source", "target"], name="circuit_edge_unique_pair"
            ),
            models.CheckConstraint(condition=Q(sign__in=[-1, 0, 1]), name="circuit_edge_sign"),
        ]

    def __str__(self):
        return f"{self.source_id} → {self.target_id} in {self.circuit_id}"


class UnitLink(models.Model):
    """A claim that two units (or two groups), usually of different networks, are the same
    feature; proposed by one member and confirmed or rejected by another."""

    class Status(models.TextChoices):
        PROPOSED = "proposed"
        CONFIRMED = "confirmed"
        REJECTED = "rejected"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="unit_links")
    unit_a = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    unit_b = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    group_a = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    group_b = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    note = models.TextField(blank=True, help_text="Markdown.")
    # The activation correlation, when the link came from a universality suggestion.
    correlation = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    unit_a__isnull=False,
                    unit_b__isnull=False,
                    group_a__isnull=True,
                    group_b__isnull=True,
                )
                | Q(
                    unit_a__isnull=True,
                    unit_b__isnull=True,
                    group_a__isnull=False,
                    group_b__isnull=False,
                ),
                name="unit_link_two_units_or_two_groups",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "unit_a"]),
            models.Index(fields=["project", "unit_b"]),
        ]

    # The event log calls it a link, and names it by its two sides.
    event_type = "link"

    def __str__(self):
        return f"link {self.pk} ({self.status})"

    @property
    def event_label(self):
        if self.unit_a_id is not None:
            return " ↔ ".join(
                f"{unit.network.name}/{unit.address}" for unit in (self.unit_a, self.unit_b)
            )
        return f"{self.group_a.name} ↔ {self.group_b.name}"

    @property
    def author_id(self):
        # The policy's authorship rules (no self-review) read the proposer as the author.
        return self.proposed_by_id
