"""Projects: teams studying networks, their members and roles, the networks they study and
the datasets they use."""

from django.conf import settings
from django.db import models

from workers.models import Dataset, Network


class Role(models.TextChoices):
    OWNER = "owner"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"
    VIEWER = "viewer"


class Project(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped by every write, for conditional updates (If-Match / ETag).
    version = models.PositiveIntegerField(default=1)
    # Policy: whether a unit's group changes only through reviewed hypotheses, and how many
    # approvals accept a hypothesis.
    assignments_need_review = models.BooleanField(default=False)
    required_approvals = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name", "slug"]

    def __str__(self):
        return self.slug

    @property
    def event_label(self):
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.role} of {self.project_id}"


class ProjectNetwork(models.Model):
    """A network the project studies; project roles apply to it through this link."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="network_links")
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="project_links")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "network_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "network"], name="project_network_unique_pair"
            ),
        ]

    def __str__(self):
        return f"{self.network_id} in {self.project_id}"


class ProjectDataset(models.Model):
    """A registered dataset the project's members may see and use in jobs (a public dataset
    needs no link)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="dataset_links")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="project_links")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "dataset_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "dataset"], name="project_dataset_unique_pair"
            ),
        ]

    def __str__(self):
        return f"dataset {self.dataset_id} in {self.project_id}"
