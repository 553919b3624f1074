"""How many committed changes a project has had, the version that keys cached grid pages."""

from django.db import models

from annotations.models.projects import Project


class ProjectChanges(models.Model):
    """A counter per project, raised once after each transaction that changed the project
    commits (``annotations/services/grid_changes.py``). No row means no change counted yet.

    A row of its own, not a column of ``Project``: the project row is read and saved whole by
    its services, which would write an old count back over a newer one.
    """

    project = models.OneToOneField(
        Project, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    count = models.BigIntegerField(default=0)

    def __str__(self):
        return f"project {self.project_id}: {self.count} changes"
