"""Evidence on hypotheses: renders of its units (or their layers) and circuits of the project,
checked when proposing and revising; a revision replaces the set and its event says so."""

import pytest

from annotations.models import CircuitNode, Event, Hypothesis, Role
from annotations.selectors.hypotheses import hypothesis_detail
from annotations.services.hypotheses import hypothesis_create, hypothesis_revise
from server.errors import UnknownReference
from tests.factories.annotations import (
    CircuitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import JobFactory, LayerFactory
from workers.models import Artifact

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return ProjectFactory(slug="curves")


@pytest.fixture
def layer(project):
    layer = LayerFactory(network__name="inceptionv1", name="mixed3b", channels=4)
    ProjectNetworkFactory(project=project, network=layer.network)
    return layer


@pytest.fixture
def ada(project):
    return MembershipFactory(project=project, user__username="ada", role=Role.ANNOTATOR).user


def artifact(layer, index=None, *, kind="feature_visualization", variant="positive"):
    """A render of unit ``index`` of ``layer`` (None: of the whole layer)."""
    return Artifact.objects.create(
        job=JobFactory(layer=layer, kind=kind),
        network=layer.network,
        layer=layer,
        unit=None if index is None else layer.units.get(index=index),
        kind=Artifact.Kind.UNIT_IMAGE if index is not None else Artifact.Kind.LAYER_SPRITE,
        variant=variant,
        file="render.png",
        content_type="image/png",
        sha256="0" * 64,
        code_version="test",
    )


def _create(project, layer, actor, **fields):
    return hypothesis_create(
        project=project,
        network=layer.network,
        title="Curve detectors",
        units=fields.pop("units", ["mixed3b:1"]),
        actor=actor,
        **fields,
    )


def test_renders_of_its_units_and_their_layer_and_a_circuit_are_evidence(project, layer, ada):
    picture = artifact(layer, 1)
    examples = artifact(layer, 1, kind="dataset_examples", variant="top")
    sprite = artifact(layer, kind="weights", variant="")
    circuit = CircuitFactory(project=project, network=layer.network, name="Curve circuit")

    hypothesis = _create(
        project,
        layer,
        ada,
        evidence=[picture.pk, examples.pk, sprite.pk],
        evidence_circuits=[circuit.pk],
    )

    detail = hypothesis_detail(project=project, hypothesis_id=hypothesis.pk)
    assert [
        (
            item["kind"],
            item["artifact"],
            item["circuit"],
            item["unit"],
            item["url"],
            item["caption"],
        )
        for item in detail.evidence_items
    ] == [
        (
            "feature_visualization",
            picture.pk,
            None,
            "mixed3b:1",
            f"/api/v1/artifacts/{picture.pk}/download/",
            "mixed3b:1 · feature visualization (positive)",
        ),
        (
            "dataset_examples",
            examples.pk,
            None,
            "mixed3b:1",
            f"/api/v1/artifacts/{examples.pk}/download/",
            "mixed3b:1 · dataset examples (top)",
        ),
        (
            "weights",
            sprite.pk,
            None,
            None,
            f"/api/v1/artifacts/{sprite.pk}/download/",
            "layer mixed3b · weights from the previous layer",
        ),
        (
            "circuit",
            None,
            circuit.pk,
            None,
            f"/api/v1/projects/curves/circuits/{circuit.pk}/diagram.svg",
            "circuit Curve circuit",
        ),
    ]


def test_a_render_of_another_unit_of_the_project_is_refused_by_name(project, layer, ada):
    other = artifact(layer, 2)

    with pytest.raises(UnknownReference) as raised:
        _create(project, layer, ada, evidence=[other.pk])

    assert raised.value.fields == {
        "evidence": [f"Artifact {other.pk} is of mixed3b:2, not of this hypothesis' units."]
    }
    assert (Hypothesis.objects.count(), Event.objects.count()) == (0, 0)


def test_a_render_of_a_layer_without_its_units_is_refused(project, layer, ada):
    elsewhere = LayerFactory(network=layer.network, name="mixed4a")
    sprite = artifact(elsewhere)

    with pytest.raises(UnknownReference) as raised:
        _create(project, layer, ada, evidence=[sprite.pk])

    assert raised.value.fields == {
        "evidence": [
            f"Artifact {sprite.pk} is of layer mixed4a, where this hypothesis has no units."
        ]
    }


def test_another_projects_render_reads_as_no_artifact(project, layer, ada):
    foreign_layer = LayerFactory(name="mixed3b")
    ProjectNetworkFactory(network=foreign_layer.network)
    foreign = artifact(foreign_layer, 1)

    with pytest.raises(UnknownReference) as raised:
        _create(project, layer, ada, evidence=[foreign.pk])

    assert raised.value.fields == {"evidence": [f"No artifact {foreign.pk} in this project."]}


def test_another_projects_circuit_is_refused(project, layer, ada):
    foreign = CircuitFactory(network=layer.network)

    with pytest.raises(UnknownReference) as raised:
        _create(project, layer, ada, evidence_circuits=[foreign.pk])

    assert raised.value.fields == {
        "evidence_circuits": [f"No circuit {foreign.pk} of this network in this project."]
    }


def test_a_hypothesis_about_a_circuit_may_cite_renders_of_the_circuits_units(project, layer, ada):
    circuit = CircuitFactory(project=project, network=layer.network)
    CircuitNode.objects.create(circuit=circuit, unit=layer.units.get(index=3))
    picture = artifact(layer, 3)

    hypothesis = _create(
        project, layer, ada, units=[], circuit_id=circuit.pk, evidence=[picture.pk]
    )

    assert hypothesis.evidence == [picture.pk]


def test_a_revision_replaces_the_evidence_and_its_event_records_both_sets(project, layer, ada):
    first, second = artifact(layer, 1), artifact(layer, 1, kind="dataset_examples", variant="top")
    circuit = CircuitFactory(project=project, network=layer.network)
    hypothesis = _create(project, layer, ada, evidence=[first.pk])

    hypothesis_revise(
        hypothesis=hypothesis,
        expected_version=1,
        actor=ada,
        evidence=[second.pk],
        evidence_circuits=[circuit.pk],
    )

    hypothesis.refresh_from_db()
    assert (hypothesis.evidence, hypothesis.evidence_circuits) == ([second.pk], [circuit.pk])
    event = Event.objects.get(verb="hypothesis.revised")
    assert (event.before, event.after) == (
        {"evidence": [first.pk], "evidence_circuits": [], "version": 1},
        {"evidence": [second.pk], "evidence_circuits": [circuit.pk], "version": 2},
    )


def test_a_revision_that_drops_the_unit_of_its_evidence_is_refused(project, layer, ada):
    picture = artifact(layer, 1)
    hypothesis = _create(project, layer, ada, evidence=[picture.pk])

    with pytest.raises(UnknownReference) as raised:
        hypothesis_revise(hypothesis=hypothesis, expected_version=1, actor=ada, units=["mixed3b:2"])

    assert raised.value.fields == {
        "evidence": [f"Artifact {picture.pk} is of mixed3b:1, not of this hypothesis' units."]
    }
    assert Hypothesis.objects.get(pk=hypothesis.pk).version == 1


def test_an_artifact_deleted_since_stays_listed_as_missing(project, layer, ada):
    picture = artifact(layer, 1)
    hypothesis = _create(project, layer, ada, evidence=[picture.pk])
    picture.job.delete()

    detail = hypothesis_detail(project=project, hypothesis_id=hypothesis.pk)

    assert [(item["kind"], item["artifact"], item["url"]) for item in detail.evidence_items] == [
        ("missing", picture.pk, None)
    ]
