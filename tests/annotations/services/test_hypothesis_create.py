import pytest

from annotations.models import Event, Group, Hypothesis, HypothesisUnit, Role
from annotations.services.assignments import assignments_apply
from annotations.services.hypotheses import hypothesis_create
from server.errors import PermissionDenied, ValidationFailed
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
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


@pytest.fixture
def curves(project):
    return Group.objects.create(project=project, name="Curves")


def _artifact(layer):
    return Artifact.objects.create(
        job=JobFactory(layer=layer),
        network=layer.network,
        layer=layer,
        unit=layer.units.get(index=1),
        kind=Artifact.Kind.UNIT_IMAGE,
        file="unit.png",
        content_type="image/png",
        sha256="0" * 64,
        code_version="test",
    )


def _create(project, layer, actor, **fields):
    return hypothesis_create(
        project=project,
        network=layer.network,
        title=fields.pop("title", "Curve detectors"),
        actor=actor,
        **fields,
    )


def test_an_annotator_writes_a_hypothesis_recording_each_units_current_group(
    project, layer, ada, curves
):
    edges = Group.objects.create(project=project, name="Edges")
    assignments_apply(project=project, changes=[(layer.units.get(index=2), edges)], actor=None)
    evidence = _artifact(layer)

    hypothesis = _create(
        project,
        layer,
        ada,
        title="  Curve detectors  ",
        text="They respond to *curves*.",
        units=["mixed3b:2", "mixed3b:1"],
        proposed_group_id=curves.pk,
        group_id=curves.pk,
        evidence=[evidence.pk, evidence.pk],
    )

    assert Hypothesis.objects.values_list(
        "title", "text", "status", "author", "proposed_group", "group", "evidence", "version"
    ).get() == (
        "Curve detectors",
        "They respond to *curves*.",
        "open",
        ada.pk,
        curves.pk,
        curves.pk,
        [evidence.pk],
        1,
    )
    assert list(
        HypothesisUnit.objects.filter(hypothesis=hypothesis).values_list(
            "unit__index", "expected_group"
        )
    ) == [(1, None), (2, edges.pk)]
    event = Event.objects.get(verb="hypothesis.created")
    assert (event.actor, event.target_id, event.target_label, event.before) == (
        ada,
        hypothesis.pk,
        "Curve detectors",
        None,
    )
    assert event.after == {
        "title": "Curve detectors",
        "text": "They respond to *curves*.",
        "units": ["mixed3b:1", "mixed3b:2"],
        "proposed_group": curves.pk,
        "new_group": None,
        "group": curves.pk,
        "evidence": [evidence.pk],
        "evidence_circuits": [],
        "circuit": None,
        "status": "open",
        "version": 1,
    }


def test_a_new_group_proposal_is_stored_with_its_defaults_and_no_colour(project, layer, ada):
    _create(project, layer, ada, units=["mixed3b:0"], new_group={"name": " Small curves "})

    assert Hypothesis.objects.values_list("new_group", flat=True).get() == {
        "name": "Small curves",
        "parent": None,
        "description": "",
        "color": None,
    }
    assert Group.objects.count() == 0


def test_a_viewer_may_not_write_a_hypothesis(project, layer):
    viewer = MembershipFactory(project=project, role=Role.VIEWER).user

    with pytest.raises(PermissionDenied):
        _create(project, layer, viewer, units=["mixed3b:0"])

    assert (Hypothesis.objects.count(), Event.objects.count()) == (0, 0)


def test_every_invalid_field_is_named_and_nothing_is_written(project, layer, ada, curves):
    other = Group.objects.create(project=ProjectFactory(), name="Elsewhere")
    foreign = _artifact(LayerFactory(name="conv2d0"))

    with pytest.raises(ValidationFailed) as raised:
        _create(
            project,
            layer,
            ada,
            title=" ",
            units=["mixed3b:0", "mixed3b:0"],
            proposed_group_id=curves.pk,
            new_group={"name": "", "parent": other.pk, "color": "blue"},
            group_id=other.pk,
            evidence=[foreign.pk],
        )

    assert raised.value.fields == {
        "title": ["This field cannot be blank."],
        "group": [f"No group {other.pk} in this project."],
        "new_group": ["Propose an existing group or a new one, not both."],
        "units": ["A unit is listed twice."],
        "evidence": [f"No artifact {foreign.pk} in this project."],
    }
    assert (Hypothesis.objects.count(), HypothesisUnit.objects.count(), Event.objects.count()) == (
        0,
        0,
        0,
    )


def test_a_new_groups_own_problems_are_listed(project, layer, ada):
    with pytest.raises(ValidationFailed) as raised:
        _create(
            project,
            layer,
            ada,
            units=["mixed3b:0"],
            new_group={"name": "", "parent": 999, "color": "blue"},
        )

    assert raised.value.fields == {
        "new_group": [
            "The new group needs a name.",
            "No group 999 in this project.",
            "The color reads like #1f77b4.",
        ]
    }


def test_unknown_unit_addresses_are_refused(project, layer, ada):
    with pytest.raises(ValidationFailed) as raised:
        _create(project, layer, ada, units=["mixed3b:0", "mixed3b:99"])

    assert raised.value.fields == {"units.1": ["No unit mixed3b:99 in this project."]}
    assert Hypothesis.objects.count() == 0


def test_a_proposal_needs_units(project, layer, ada, curves):
    with pytest.raises(ValidationFailed) as raised:
        _create(project, layer, ada, proposed_group_id=curves.pk)

    assert raised.value.fields == {"units": ["A proposed group needs units to put in it."]}


def test_a_layer_scoped_group_takes_units_of_its_layer_only(project, layer, ada):
    other_layer = LayerFactory(network=layer.network, name="mixed3a", channels=2)
    scoped = Group.objects.create(project=project, name="3b curves", layer=layer)

    with pytest.raises(ValidationFailed) as raised:
        _create(project, layer, ada, units=["mixed3a:0", "mixed3b:0"], proposed_group_id=scoped.pk)

    assert raised.value.detail == "3b curves is for layer mixed3b only."
    assert raised.value.fields == {"units": ["mixed3a:0 is in another layer."]}
    assert other_layer.units.count() == 2
    assert Hypothesis.objects.count() == 0


def test_a_network_the_project_does_not_study_is_refused(project, ada):
    stranger = LayerFactory(name="mixed3b")

    with pytest.raises(ValidationFailed) as raised:
        _create(project, stranger, ada, units=["mixed3b:0"])

    assert raised.value.fields == {"network": ["Unknown."]}
    assert Hypothesis.objects.count() == 0
