"""Releases freeze circuits as they were; the diff between two releases names the circuits
added, removed and changed."""

import pytest

from annotations.models import Role
from annotations.selectors.releases import release_diff
from annotations.services.circuits import (
    circuit_create,
    circuit_delete,
    circuit_node_add,
    circuit_update,
)
from annotations.services.releases import release_create
from tests.annotations.exports.conftest import export_document
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    project = ProjectFactory(slug="curves")
    network = ProjectNetworkFactory(project=project, network__name="one").network
    LayerFactory(network=network, name="a", order=0)
    owner = MembershipFactory(project=project, role=Role.OWNER).user
    return project, network, owner


def test_a_release_keeps_the_circuit_as_it_was_and_the_diff_names_what_changed(scene):
    project, network, owner = scene
    kept = circuit_create(project=project, network=network, actor=owner, name="Kept")
    gone = circuit_create(project=project, network=network, actor=owner, name="Gone")
    older = release_create(project=project, actor=owner, name="v1")
    circuit_update(circuit=kept, actor=owner, expected_version=1, description="Now described.")
    circuit_node_add(
        circuit=kept, unit=network.units.get(index=0), actor=owner, expected_version=2, role="x"
    )
    circuit_delete(circuit=gone, actor=owner, expected_version=1)
    circuit_create(project=project, network=network, actor=owner, name="New")
    newer = release_create(project=project, actor=owner, name="v2")

    diff = release_diff(older=older, newer=newer)

    assert diff["circuits"] == {
        "added": [{"network": "one", "name": "New"}],
        "removed": [{"network": "one", "name": "Gone"}],
        "changed": [{"network": "one", "name": "Kept", "fields": ["description", "nodes"]}],
    }
    frozen = export_document(project, network, release=older)["circuits"]
    assert [(c["name"], c["description"], c["nodes"]) for c in frozen] == [
        ("Gone", "", []),
        ("Kept", "", []),
    ]
