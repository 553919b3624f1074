"""Circuit use cases on a small MobileNetV2 with the engine's real weights: growing by inputs
and outputs, thresholds, removing nodes, names, and hypotheses about a circuit."""

import json

import pytest

from annotations.models import Circuit, CircuitEdge, CircuitNode, Event, Role
from annotations.services.circuits import (
    circuit_create,
    circuit_grow,
    circuit_node_add,
    circuit_node_remove,
    circuit_update,
)
from annotations.services.hypotheses import hypothesis_create
from annotations.services.imports import taxonomy_import
from server.errors import Conflict, ValidationFailed, VersionConflict
from tests.annotations.circuits.conftest import after_the_worker
from tests.annotations.exports.conftest import export_text
from tests.factories.annotations import CircuitFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory
from workers.addresses import UnitAddress
from workers.engine.networks import load_builtin
from workers.engine.weights import unit_weights
from workers.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def annotator(members):
    return members[Role.ANNOTATOR]


@pytest.fixture
def engine():
    """The same network as the registered one, loaded apart, to check against."""
    return load_builtin("mobilenet_v2", random_seed=0, input_size=64)


def _unit(network, address):
    address = UnitAddress.parse(address)
    return Unit.objects.select_related("layer").get(
        network=network, layer__name=address.layer, index=address.index
    )


def _seeded(project, network, actor, address):
    circuit = circuit_create(project=project, network=network, actor=actor, name="Seed")
    node = circuit_node_add(
        circuit=circuit, unit=_unit(network, address), actor=actor, expected_version=1
    )
    return circuit, node


def _addresses(nodes):
    return [str(node.unit.address) for node in nodes]


def test_growing_by_outputs_adds_the_units_the_node_feeds_most(
    project, mobilenet, annotator, engine
):
    circuit, node = _seeded(project, mobilenet, annotator, "features.1:0")
    column = unit_weights(engine, "features.2.expand", k=1).norm_matrix[:, 0].tolist()
    strongest = sorted(range(len(column)), key=lambda unit: -column[unit])[:3]

    nodes, edges = after_the_worker(
        circuit_grow,
        circuit=circuit,
        node=node,
        actor=annotator,
        expected_version=2,
        direction="outputs",
        k=3,
    )

    assert _addresses(nodes) == [f"features.2.expand:{unit}" for unit in strongest]
    assert [edge.magnitude for edge in edges] == pytest.approx([column[u] for u in strongest])
    assert {(edge.source_id, edge.kind) for edge in edges} == {(node.pk, "direct")}
    assert circuit.version == 3


def test_a_threshold_keeps_only_the_weights_at_least_that_strong(
    project, mobilenet, annotator, engine
):
    circuit, node = _seeded(project, mobilenet, annotator, "features.2.expand:0")
    norms = unit_weights(engine, "features.2.expand", units=[0], k=3).norms[0].tolist()

    nodes, edges = after_the_worker(
        circuit_grow,
        circuit=circuit,
        node=node,
        actor=annotator,
        expected_version=2,
        k=3,
        threshold=(norms[1] + norms[2]) / 2,
    )

    assert [edge.magnitude for edge in edges] == pytest.approx(norms[:2])
    assert len(nodes) == 2
    assert Event.objects.filter(verb="circuit.grown").get().after["threshold"] == pytest.approx(
        (norms[1] + norms[2]) / 2
    )


def test_growing_again_adds_no_node_or_edge_twice(project, mobilenet, annotator):
    circuit, node = _seeded(project, mobilenet, annotator, "features.2.expand:0")
    after_the_worker(
        circuit_grow, circuit=circuit, node=node, actor=annotator, expected_version=2, k=2
    )

    nodes, edges = after_the_worker(
        circuit_grow, circuit=circuit, node=node, actor=annotator, expected_version=3, k=2
    )

    assert (nodes, edges) == ([], [])
    assert (CircuitNode.objects.count(), CircuitEdge.objects.count()) == (3, 2)


def test_removing_a_node_removes_its_edges(project, mobilenet, annotator):
    circuit, node = _seeded(project, mobilenet, annotator, "features.2.expand:0")
    nodes, _ = after_the_worker(
        circuit_grow, circuit=circuit, node=node, actor=annotator, expected_version=2, k=2
    )

    circuit_node_remove(circuit=circuit, node=node, actor=annotator, expected_version=3)

    assert sorted(CircuitNode.objects.values_list("pk", flat=True)) == sorted(n.pk for n in nodes)
    assert not CircuitEdge.objects.exists()
    assert Event.objects.get(verb="circuit.node_removed").before["edges"] == 2


def test_a_stale_grow_changes_nothing(project, mobilenet, annotator):
    circuit, node = _seeded(project, mobilenet, annotator, "features.2.expand:0")

    with pytest.raises(VersionConflict):
        circuit_grow(circuit=circuit, node=node, actor=annotator, expected_version=1, k=2)

    assert (CircuitNode.objects.count(), Circuit.objects.get().version) == (1, 2)


def test_a_unit_of_another_network_is_not_a_node(project, mobilenet, annotator):
    circuit = circuit_create(project=project, network=mobilenet, actor=annotator, name="Seed")
    other = CircuitFactory(project=project).network
    unit = LayerFactory(network=other).units.first()

    with pytest.raises(ValidationFailed):
        circuit_node_add(circuit=circuit, unit=unit, actor=annotator, expected_version=1)

    assert not CircuitNode.objects.exists()


def test_circuit_names_are_unique_in_a_project(project, mobilenet, annotator):
    circuit_create(project=project, network=mobilenet, actor=annotator, name="Curves")
    second = circuit_create(project=project, network=mobilenet, actor=annotator, name="Lines")

    with pytest.raises(Conflict) as error:
        circuit_update(circuit=second, actor=annotator, expected_version=1, name=" Curves ")

    assert error.value.code == "name_taken"
    assert Circuit.objects.get(pk=second.pk).name == "Lines"


def test_a_hypothesis_is_about_a_circuit_of_its_own_network(project, mobilenet, annotator):
    other = ProjectNetworkFactory(project=project).network
    elsewhere = CircuitFactory(project=project, network=other)

    with pytest.raises(ValidationFailed) as error:
        hypothesis_create(
            project=project,
            network=mobilenet,
            title="Wrong network",
            circuit_id=elsewhere.pk,
            actor=annotator,
        )

    assert list(error.value.fields) == ["circuit"]


def test_a_file_without_circuits_or_links_still_imports(project, mobilenet, members):
    document = json.loads(export_text(project, mobilenet, "json"))
    del document["circuits"], document["links"]
    circuit_create(project=project, network=mobilenet, actor=members[Role.OWNER], name="Kept")

    report = taxonomy_import(
        project=project,
        network=mobilenet,
        actor=members[Role.OWNER],
        format="json",
        content=json.dumps(document),
    )

    assert (report["circuits_created"], report["links_created"]) == (0, 0)
    assert list(Circuit.objects.values_list("name", flat=True)) == ["Kept"]


def test_a_circuit_the_project_has_by_name_is_left_alone_on_import(project, mobilenet, members):
    circuit, node = _seeded(project, mobilenet, members[Role.OWNER], "features.2.expand:0")
    after_the_worker(
        circuit_grow, circuit=circuit, node=node, actor=members[Role.OWNER], expected_version=2, k=2
    )
    content = export_text(project, mobilenet, "json")

    report = taxonomy_import(
        project=project,
        network=mobilenet,
        actor=members[Role.OWNER],
        format="json",
        content=content,
    )

    assert (report["changed"], report["circuits_created"], report["circuits_unchanged"]) == (
        False,
        0,
        1,
    )
    assert CircuitNode.objects.count() == 3
