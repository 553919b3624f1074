"""The notebook client's circuits and universality links against a live server, with the
engine's real weights on a small MobileNetV2, computed by the connections job's worker code."""

import pytest
import torch
from atlas_client import Atlas, AtlasError, StaleVersion

from annotations.models import Role
from annotations.services.projects import project_network_link
from tests.factories.annotations import PASSWORD, MembershipFactory, ProjectFactory
from tests.factories.workers import LayerFactory, NetworkFactory
from workers import runtime
from workers.engine.errors import EngineError
from workers.models import Job
from workers.renderers import connections as connections_renderer
from workers.services import jobs as job_services
from workers.services.job_run import job_run
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_network_cache(monkeypatch):
    monkeypatch.setattr(runtime, "_networks", runtime.OrderedDict())
    monkeypatch.setattr(runtime, "_device", torch.device("cpu"))


@pytest.fixture
def worker(monkeypatch):
    """Runs each job as soon as it is enqueued, in the server's thread, standing in for a
    worker; the request that asked for it still answers 409 ``weights_pending``, and the
    client's second request reads what the job stored."""
    ran = []

    def run(job_id, countdown=None):
        ran.append((job_id, job_run(job_id=job_id)))

    monkeypatch.setattr(job_services, "_enqueue_after_commit", run)
    return ran


@pytest.fixture
def no_worker(monkeypatch):
    """Jobs stay queued: no worker takes them."""
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


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


def test_a_circuit_is_grown_edited_and_read_back(atlas, worker):
    circuit = atlas.create_circuit("curves", "mobilenet", "Seed", "From one unit.")
    seeded = atlas.add_node("curves", circuit, "features.2.expand:0", role="start")
    grown = atlas.grow("curves", circuit, seeded["nodes"][0], k=2, poll=0.05)
    atlas.update_circuit("curves", circuit, name="Grown")

    read = atlas.circuit("curves", circuit["id"])

    [job] = Job.objects.filter(kind="connections")
    assert worker == [(job.pk, "succeeded")]
    assert (read["name"], len(read["nodes"]), len(read["edges"])) == ("Grown", 3, 2)
    assert read["version"] == grown["version"] + 1
    assert [event["verb"] for event in atlas.circuit_history("curves", circuit)] == [
        "circuit.renamed",
        "circuit.grown",
        "circuit.node_added",
        "circuit.created",
    ]


def test_an_edge_waits_for_its_weights_job_and_is_added_once(atlas, worker):
    circuit = atlas.create_circuit("curves", "mobilenet", "Pair")
    atlas.add_node("curves", circuit, "features.1:3")
    nodes = atlas.add_node("curves", circuit, "features.2.expand:7")["nodes"]

    joined = atlas.add_edge("curves", circuit, nodes[0], nodes[1], poll=0.05)

    [edge] = joined["edges"]
    assert (edge["source_unit"], edge["target_unit"], edge["kind"]) == (
        "features.1:3",
        "features.2.expand:7",
        "direct",
    )
    assert joined["version"] == 4
    assert [status for _job, status in worker] == ["succeeded"]


def test_growing_raises_timeout_while_the_weights_job_stays_queued(atlas, no_worker):
    circuit = atlas.create_circuit("curves", "mobilenet", "Seed")
    seeded = atlas.add_node("curves", circuit, "features.2.expand:0")

    with pytest.raises(TimeoutError):
        atlas.grow("curves", circuit, seeded["nodes"][0], timeout=0.2, poll=0.05)

    assert Job.objects.get(kind="connections").status == Job.Status.QUEUED
    assert atlas.circuit("curves", circuit["id"])["version"] == seeded["version"]


def test_growing_raises_when_the_weights_job_failed(atlas, worker, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise EngineError("out of memory")

    monkeypatch.setattr(connections_renderer, "unit_weights", out_of_memory)
    circuit = atlas.create_circuit("curves", "mobilenet", "Seed")
    seeded = atlas.add_node("curves", circuit, "features.2.expand:0")

    with pytest.raises(AtlasError) as error:
        atlas.grow("curves", circuit, seeded["nodes"][0], poll=0.05)

    [(job, status)] = worker
    assert (error.value.code, error.value.fields) == ("weights_failed", {"job": [str(job)]})
    assert error.value.detail == f"Job {job}, computing the weights, failed: out of memory"
    assert atlas.circuit("curves", circuit["id"])["version"] == seeded["version"]


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
