"""The notebook client's circuits and universality links against a live server, with the
engine's real weights on a small MobileNetV2."""

import pytest
import torch
from atlas_client import Atlas, StaleVersion

from annotations.models import Role
from annotations.services.projects import project_network_link
from tests.factories.annotations import PASSWORD, MembershipFactory, ProjectFactory
from tests.factories.workers import LayerFactory, NetworkFactory
from workers import runtime
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_network_cache(monkeypatch):
    monkeypatch.setattr(runtime, "_networks", runtime.OrderedDict())
    monkeypatch.setattr(runtime, "_device", torch.device("cpu"))


@pytest.fixture
def people():
    project = ProjectFactory(slug="curves")
    mobilenet = network_register(
        name="mobilenet", arch="mobilenet_v2", random_seed=0, input_size=64
    )
    other = NetworkFactory(name="inception")
    LayerFactory(network=other, name="mixed3b", order=0, channels=8)
    for network in (mobilenet, other):
        project_network_link(project=project, network=network, actor=None)
    return {
        role: MembershipFactory(project=project, role=role, user__username=role).user
        for role in (Role.ANNOTATOR, Role.REVIEWER)
    }


@pytest.fixture
def atlas(live_server, people):
    return Atlas.login(live_server.url, "annotator", PASSWORD)


def test_a_circuit_is_grown_edited_and_read_back(atlas):
    circuit = atlas.create_circuit("curves", "mobilenet", "Seed", "From one unit.")
    seeded = atlas.add_node("curves", circuit, "features.2.expand:0", role="start")
    grown = atlas.grow("curves", circuit, seeded["nodes"][0], k=2)
    atlas.update_circuit("curves", circuit, name="Grown")

    read = atlas.circuit("curves", circuit["id"])

    assert (read["name"], len(read["nodes"]), len(read["edges"])) == ("Grown", 3, 2)
    assert read["version"] == grown["version"] + 1
    assert [event["verb"] for event in atlas.circuit_history("curves", circuit)] == [
        "circuit.renamed",
        "circuit.grown",
        "circuit.node_added",
        "circuit.created",
    ]


def test_a_stale_version_raises(atlas):
    circuit = atlas.create_circuit("curves", "mobilenet", "Seed")
    atlas.update_circuit("curves", circuit, description="Once.")

    with pytest.raises(StaleVersion):
        atlas.update_circuit("curves", circuit, version=1, description="Twice.")


def test_a_link_is_proposed_and_confirmed_by_another_member(atlas, live_server):
    link = atlas.propose_link(
        "curves", ("mobilenet", "features.1:3"), ("inception", "mixed3b:5"), "Curves.", 0.8
    )
    reviewer = Atlas.login(live_server.url, "reviewer", PASSWORD)

    confirmed = reviewer.review_link("curves", link, "confirm")

    assert confirmed["status"] == "confirmed"
    assert [row["id"] for row in atlas.unit_links("curves", "inception", "mixed3b:5")] == [
        link["id"]
    ]
    assert [row["id"] for row in atlas.links("curves", status="confirmed")] == [link["id"]]
