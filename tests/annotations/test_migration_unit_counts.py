"""Migration 0008 fills the grid's counts from the comments and hypotheses already there."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from annotations.models import Comment
from annotations.services.unit_counts import unit_counts_counted
from tests.annotations.services.test_unit_counts import Team, stored
from tests.factories.annotations import CommentFactory, HypothesisFactory, HypothesisUnitFactory
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("annotations", "0007_grid_count_indexes")
INTRODUCED = ("annotations", "0008_unit_counts")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def test_the_migration_counts_what_the_project_already_has():
    layer = LayerFactory(name="mixed3b", channels=3)
    team = Team(layer, "early-vision")
    first, second, third = layer.units.order_by("index")
    for target in (first, first, second):
        CommentFactory(project=team.project, target_type="unit", target_id=target.pk)
    CommentFactory(
        project=team.project, target_type="unit", target_id=third.pk, deleted_at=timezone.now()
    )
    for status in ("open", "open", "accepted"):
        hypothesis = HypothesisFactory(project=team.project, network=layer.network, status=status)
        HypothesisUnitFactory(hypothesis=hypothesis, unit=second)
    expected = {
        first.pk: {"comments": 2, "open_hypotheses": 0},
        second.pk: {"comments": 1, "open_hypotheses": 2},
    }
    assert Comment.objects.filter(project=team.project).count() == 4
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()

    try:
        _migrate([BEFORE])
        _migrate([INTRODUCED])
    finally:
        _migrate(leaves)

    assert stored(team.project) == expected == unit_counts_counted(project_id=team.project.pk)
