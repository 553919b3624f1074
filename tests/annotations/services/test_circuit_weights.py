"""Circuit weights in the web process: read from what a worker's connections job stored, never
computed there. Until they are stored, adding an edge or growing asks for that job (one job
for the same layers, however often asked), changes nothing, and raises ``WeightsPending``."""

import pytest

from annotations.models import Circuit, CircuitEdge, CircuitNode, Event, Role
from annotations.services.circuits import (
    circuit_create,
    circuit_edge_add,
    circuit_grow,
    circuit_node_add,
)
from annotations.services.projects import project_network_link
from server.errors import ValidationFailed
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory
from workers import runtime
from workers.addresses import UnitAddress
from workers.models import Job, Network
from workers.services import jobs as job_services
from workers.services.connections import WeightsPending
from workers.services.job_run import job_run
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _worker_without_broker(monkeypatch):
    """Jobs run here by ``job_run``, each on a network loaded afresh (ids repeat across tests)."""
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)
    monkeypatch.setattr(runtime, "_networks", runtime.OrderedDict())


@pytest.fixture
def mobilenet():
    return network_register(name="mobilenet", arch="mobilenet_v2", random_seed=0, input_size=64)


@pytest.fixture
def project(mobilenet):
    project = ProjectFactory(slug="curves")
    project_network_link(project=project, network=mobilenet, actor=None)
    return project


@pytest.fixture
def annotator(project):
    return MembershipFactory(project=project, role=Role.ANNOTATOR).user


@pytest.fixture
def no_loading(monkeypatch):
    loads = []
    monkeypatch.setattr(runtime, "network_for", lambda network, **options: loads.append(network))
    return loads


def _seeded(project, network, actor, *addresses):
    circuit = circuit_create(project=project, network=network, actor=actor, name="Seed")
    nodes = [
        circuit_node_add(
            circuit=circuit,
            unit=network.units.select_related("layer").get(
                layer__name=address.layer, index=address.index
            ),
            actor=actor,
            expected_version=circuit.version,
        )
        for address in map(UnitAddress.parse, addresses)
    ]
    return circuit, nodes


def _grow(circuit, node, actor, **options):
    return circuit_grow(
        circuit=circuit, node=node, actor=actor, expected_version=circuit.version, **options
    )


def test_growing_without_stored_weights_requests_one_job_and_changes_nothing(
    project, mobilenet, annotator, no_loading
):
    circuit, [node] = _seeded(project, mobilenet, annotator, "features.2.expand:0")
    events = Event.objects.count()

    with pytest.raises(WeightsPending) as first:
        _grow(circuit, node, annotator, k=2)
    with pytest.raises(WeightsPending) as again:
        _grow(circuit, node, annotator, k=3)

    job = Job.objects.get()
    assert (first.value.job, again.value.job) == (job, job)
    assert (first.value.status, first.value.code) == (409, "weights_pending")
    assert first.value.fields == {"job": [str(job.pk)]}
    assert (job.kind, job.layer.name, job.params, job.status) == (
        "connections",
        "features.2.expand",
        {"source_layer": "features.1"},
        Job.Status.QUEUED,
    )
    assert (Circuit.objects.get().version, CircuitNode.objects.count()) == (2, 1)
    assert Event.objects.count() == events
    assert no_loading == []


def test_growing_outputs_and_inputs_across_the_same_layers_share_one_job(
    project, mobilenet, annotator
):
    circuit, [earlier, later] = _seeded(
        project, mobilenet, annotator, "features.1:0", "features.2.expand:0"
    )
    with pytest.raises(WeightsPending) as outputs:
        _grow(circuit, earlier, annotator, direction="outputs", k=1)
    assert job_run(job_id=outputs.value.job.pk) == "succeeded"

    nodes, edges = _grow(circuit, later, annotator, direction="inputs", k=1)

    assert Job.objects.count() == 1
    assert (len(edges), edges[0].target_id) == (1, later.pk)


def test_adding_an_edge_reads_the_stored_weights_after_the_job(project, mobilenet, annotator):
    circuit, [source, target] = _seeded(
        project, mobilenet, annotator, "features.1:3", "features.2.expand:7"
    )
    arguments = {"circuit": circuit, "source": source, "target": target, "actor": annotator}
    with pytest.raises(WeightsPending) as pending:
        circuit_edge_add(**arguments, expected_version=circuit.version)

    assert job_run(job_id=pending.value.job.pk) == "succeeded"
    edge = circuit_edge_add(**arguments, expected_version=circuit.version)

    assert (edge.source_id, edge.target_id, edge.kind) == (source.pk, target.pk, "direct")
    assert CircuitEdge.objects.get().magnitude == pytest.approx(edge.magnitude)
    assert Circuit.objects.get().version == 4


def test_the_inputs_of_a_first_layer_are_refused_without_a_job(project, mobilenet, annotator):
    circuit, [node] = _seeded(project, mobilenet, annotator, "features.0:0")

    with pytest.raises(ValidationFailed) as error:
        _grow(circuit, node, annotator)

    assert error.value.code == "weights_unavailable"
    assert error.value.detail == (
        "The engine cannot compute these weights: features.0 is computed from the image: its "
        "weights are RGB filters (the first_layer_weights job draws them)."
    )
    assert not Job.objects.exists()


def test_weights_of_a_torchscript_network_are_refused_without_a_job_or_loading_it(no_loading):
    first = LayerFactory(network__source=Network.Source.TORCHSCRIPT, network__arch="", order=0)
    second = LayerFactory(network=first.network, order=1)
    link = ProjectNetworkFactory(network=first.network)
    annotator = MembershipFactory(project=link.project, role=Role.ANNOTATOR).user
    circuit = circuit_create(
        project=link.project, network=first.network, actor=annotator, name="Scripted"
    )
    source, target = (
        circuit_node_add(
            circuit=circuit,
            unit=layer.units.get(index=0),
            actor=annotator,
            expected_version=circuit.version,
        )
        for layer in (first, second)
    )

    with pytest.raises(ValidationFailed) as error:
        circuit_edge_add(
            circuit=circuit,
            source=source,
            target=target,
            actor=annotator,
            expected_version=circuit.version,
        )

    assert error.value.code == "weights_unavailable"
    assert error.value.detail == (
        "The engine cannot compute these weights: Weights between units are read from "
        "built-in architectures only; this is a TorchScript network."
    )
    assert (no_loading, Job.objects.exists(), CircuitEdge.objects.exists()) == ([], False, False)
