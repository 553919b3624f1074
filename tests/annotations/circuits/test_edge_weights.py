"""Issue 8, acceptance 2: an edge's weight is the engine's weight. On a small MobileNetV2 whose
weights were set by hand, an edge between adjacent layers holds the kernel read from the
network (convolution times batch-norm scale) and its L2 norm; an edge across two layers holds
the expanded kernel (depthwise kernel times projection weight). The engine runs in the
worker's connections job; the request only reads what it stored."""

import math

import pytest
import torch
from django.core.files.storage import default_storage

from annotations.models import Circuit, CircuitEdge, Role
from annotations.services.circuits import circuit_create, circuit_edge_add, circuit_node_add
from annotations.services.projects import project_network_link
from server.errors import ValidationFailed
from tests.annotations.circuits.conftest import (
    PROJECT,
    after_the_worker,
    client_for,
    if_match,
)
from tests.factories.annotations import MembershipFactory, ProjectFactory
from workers import runtime
from workers.addresses import UnitAddress
from workers.engine.networks import load_builtin
from workers.models import Job, Unit
from workers.services.connections import WeightsPending
from workers.services.job_run import job_run
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db

# features.2.depthwise unit 5 reads features.2.expand unit 5 through this 3×3 kernel: its sum
# is 5 and its L2 norm sqrt(1 + 4 + 4 + 16) = 5.
EXCITING = [[1.0, 2.0, 0.0], [0.0, -2.0, 0.0], [0.0, 0.0, 4.0]]
# Unit 6 through a kernel with sum -3 and norm sqrt(3).
INHIBITING = [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]]
EPS = 1e-5


@pytest.fixture
def hand_set(tmp_path):
    """MobileNetV2 (64 px) with hand-set weights in block 2, as a registered network."""
    module = load_builtin("mobilenet_v2", random_seed=0, input_size=64).module
    block = module.features[2].conv
    with torch.no_grad():
        block[3].weight[5, 0] = torch.tensor(EXCITING)
        block[3].weight[6, 0] = torch.tensor(INHIBITING)
        for norm in (block[4], block[7]):
            norm.weight.fill_(1.0)
            norm.running_var.fill_(1.0)
        block[0].weight[7, 3, 0, 0] = -0.75
        block[1].weight[7] = 2.0
        block[1].running_var[7] = 3.0
        block[6].weight[2, :, 0, 0] = 0.0
        block[6].weight[2, 5, 0, 0] = 0.5
    path = tmp_path / "hand_set.pt"
    torch.save(module.state_dict(), path)
    return network_register(name="handset", arch="mobilenet_v2", weights=path, input_size=64)


@pytest.fixture
def annotator(hand_set):
    project = ProjectFactory(slug="curves")
    project_network_link(project=project, network=hand_set, actor=None)
    return MembershipFactory(project=project, role=Role.ANNOTATOR).user


def _unit(network, address):
    address = UnitAddress.parse(address)
    return Unit.objects.select_related("layer").get(
        network=network, layer__name=address.layer, index=address.index
    )


def _nodes(network, actor, source, target):
    circuit = circuit_create(
        project=actor.memberships.get().project, network=network, actor=actor, name="Edge"
    )
    ends = [
        circuit_node_add(
            circuit=circuit,
            unit=_unit(network, address),
            actor=actor,
            expected_version=circuit.version,
        )
        for address in (source, target)
    ]
    return circuit, ends


def _edge(network, actor, source, target):
    circuit, (source, target) = _nodes(network, actor, source, target)
    return after_the_worker(
        circuit_edge_add,
        circuit=circuit,
        source=source,
        target=target,
        actor=actor,
        expected_version=circuit.version,
    )


def _read_kernel(network, source, target):
    """The direct kernel as the network holds it: convolution weight times batch-norm scale."""
    module = load_builtin("mobilenet_v2", weights_path=_weights_path(network), input_size=64).module
    conv, norm = {
        "features.2.depthwise": (module.features[2].conv[3], module.features[2].conv[4]),
        "features.2.expand": (module.features[2].conv[0], module.features[2].conv[1]),
    }[UnitAddress.parse(target).layer]
    unit, column = UnitAddress.parse(target).index, UnitAddress.parse(source).index
    scale = norm.weight[unit] / torch.sqrt(norm.running_var[unit] + norm.eps)
    column = 0 if conv.groups > 1 else column
    return (conv.weight[unit, column] * scale).detach()


def _weights_path(network):
    return default_storage.path(network.weights)


@pytest.mark.parametrize(
    ("source", "target", "sign", "hand_norm"),
    [
        ("features.2.expand:5", "features.2.depthwise:5", 1, 5.0 / math.sqrt(1 + EPS)),
        ("features.2.expand:6", "features.2.depthwise:6", -1, math.sqrt(3) / math.sqrt(1 + EPS)),
        ("features.1:3", "features.2.expand:7", -1, 0.75 * 2.0 / math.sqrt(3 + EPS)),
    ],
)
def test_an_edge_between_adjacent_layers_holds_the_networks_kernel_and_its_l2_norm(
    hand_set, annotator, source, target, sign, hand_norm
):
    kernel = _read_kernel(hand_set, source, target)

    edge = _edge(hand_set, annotator, source, target)

    assert (edge.kind, edge.sign) == ("direct", sign)
    assert edge.magnitude == pytest.approx(float(kernel.norm()), rel=1e-6)
    assert edge.magnitude == pytest.approx(hand_norm, rel=1e-6)
    torch.testing.assert_close(torch.tensor(edge.kernel), kernel)


def test_an_edge_across_two_layers_holds_the_expanded_kernel(hand_set, annotator):
    edge = _edge(hand_set, annotator, "features.2.expand:5", "features.2:2")

    # Depthwise kernel 5 times projection weight 0.5, each norm's scale 1/sqrt(1 + eps).
    expected = torch.tensor(EXCITING) * 0.5 / (1 + EPS)
    assert (edge.kind, edge.sign) == ("expanded", 1)
    torch.testing.assert_close(torch.tensor(edge.kernel), expected)
    assert edge.magnitude == pytest.approx(2.5 / (1 + EPS), rel=1e-6)


def test_the_api_stores_the_edge_with_where_its_numbers_came_from(hand_set, annotator):
    client = client_for(annotator)
    created = client.post(
        f"{PROJECT}/circuits/", {"network": "handset", "name": "Pair"}, format="json"
    )
    response = created
    for address in ("features.2.expand:5", "features.2.depthwise:5"):
        response = client.post(
            f"{PROJECT}/circuits/{created.json()['id']}/nodes/",
            {"unit": address},
            format="json",
            **if_match(response),
        )
    source, target = (node["id"] for node in response.json()["nodes"])
    edges = f"{PROJECT}/circuits/{created.json()['id']}/edges/"
    body = {"source": source, "target": target}

    pending = client.post(edges, body, format="json", **if_match(response))
    job = Job.objects.get(kind="connections")
    ran = job_run(job_id=job.pk)
    added = client.post(edges, body, format="json", **if_match(response))

    assert (pending.status_code, pending.json()["code"]) == (409, "weights_pending")
    assert pending.json()["fields"] == {"job": [str(job.pk)]}
    assert (job.layer.name, job.params, job.created_by) == (
        "features.2.depthwise",
        {"source_layer": "features.2.expand"},
        annotator,
    )
    assert ran == "succeeded"
    assert added.status_code == 201
    [edge] = added.json()["edges"]
    assert edge["magnitude"] == pytest.approx(5.0 / math.sqrt(1 + EPS), rel=1e-6)
    assert edge["origin"] == {
        "engine": "workers.engine.weights.unit_weights",
        "network": "handset",
        "weights_sha256": hand_set.weights_sha256,
        "random_seed": None,
        "source_layer": "features.2.expand",
        "layer": "features.2.depthwise",
    }


def test_an_edge_from_a_later_layer_to_an_earlier_one_is_refused(hand_set, annotator):
    with pytest.raises(ValidationFailed) as error:
        _edge(hand_set, annotator, "features.2.depthwise:5", "features.2.expand:5")

    assert error.value.code == "edge_direction"
    assert not CircuitEdge.objects.exists()


def test_the_request_loads_no_network_and_the_worker_computes_the_weights(
    hand_set, annotator, monkeypatch
):
    """The request that finds no stored weights asks for the job and changes nothing; only the
    worker's run of that job loads the network."""
    loaded = []
    load = runtime.network_for
    monkeypatch.setattr(
        runtime, "network_for", lambda network, **options: loaded.append(network.name)
    )
    circuit, (source, target) = _nodes(
        hand_set, annotator, "features.2.expand:5", "features.2.depthwise:5"
    )

    with pytest.raises(WeightsPending) as pending:
        circuit_edge_add(
            circuit=circuit,
            source=source,
            target=target,
            actor=annotator,
            expected_version=circuit.version,
        )

    assert loaded == []
    assert (CircuitEdge.objects.count(), Circuit.objects.get().version) == (0, 3)
    assert pending.value.job.status == Job.Status.QUEUED
    monkeypatch.setattr(
        runtime,
        "network_for",
        lambda network, **options: loaded.append(network.name) or load(network),
    )
    assert job_run(job_id=pending.value.job.pk) == "succeeded"
    assert loaded == ["handset"]
