"""What the layer grid shows about each unit, counted ahead of time."""

from django.db import models

from annotations.models.projects import Project
from workers.models import Unit


class UnitCounts(models.Model):
    """How many standing comments and open hypotheses a unit has in a project.

    Written only by ``annotations/services/unit_counts.py``, in the same transaction as each
    change that moves a count (a comment posted or deleted on the unit, a hypothesis about it
    opened, revised or closed, an import), so that a grid page reads counts instead of
    counting 100,000 comments. No row means zero for both. The counts may never go below
    zero: a decrement that would is a bookkeeping bug and fails the transaction.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    # Comments on the unit that are not deleted (resolved threads count).
    comments = models.PositiveIntegerField(default=0)
    # Rows of hypotheses that are open and name the unit.
    open_hypotheses = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "unit"], name="unit_counts_unique_pair"),
        ]

    def __str__(self):
        return f"unit {self.unit_id} in project {self.project_id}"
