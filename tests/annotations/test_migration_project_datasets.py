"""Migration 0011 gives each dataset registered before scoping to the projects that used it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from annotations.models import ProjectDataset
from tests.factories.annotations import ProjectNetworkFactory
from tests.factories.workers import JobFactory, LayerFactory
from workers.models import Dataset

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("annotations", "0010_api_tokens")
INTRODUCED = ("annotations", "0011_project_datasets")


def _migrate(targets):
    MigrationExecutor(connection).migrate(targets)


def test_a_dataset_goes_to_the_projects_whose_jobs_used_it_and_no_other():
    used, unused = (
        Dataset.objects.create(name=name, path=f"/srv/{name}") for name in ("photos", "scans")
    )
    layer = LayerFactory()
    user_link = ProjectNetworkFactory(network=layer.network)
    other_link = ProjectNetworkFactory()
    JobFactory(
        network=layer.network, layer=layer, kind="dataset_examples", params={"dataset": "photos"}
    )
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()

    try:
        _migrate([BEFORE])
        _migrate([INTRODUCED])
    finally:
        _migrate(leaves)

    assert list(ProjectDataset.objects.values_list("project", "dataset")) == [
        (user_link.project_id, used.pk)
    ]
    assert other_link.project_id != user_link.project_id
    assert not ProjectDataset.objects.filter(dataset=unused).exists()
