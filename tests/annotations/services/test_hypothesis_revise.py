import pytest

from annotations.models import Event, Group, Hypothesis, HypothesisUnit, Role
from annotations.services.assignments import assignments_apply
from annotations.services.hypotheses import hypothesis_create, hypothesis_revise
from annotations.services.reviews import review_submit
from server.errors import InvalidTransition, PermissionDenied, ValidationFailed, VersionConflict
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory

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


@pytest.fixture
def hypothesis(project, layer, ada, curves):
    return hypothesis_create(
        project=project,
        network=layer.network,
        title="Curve detectors",
        text="First draft.",
        units=["mixed3b:1"],
        proposed_group_id=curves.pk,
        actor=ada,
    )


def _row(hypothesis):
    return Hypothesis.objects.values_list("title", "text", "proposed_group", "version").get(
        pk=hypothesis.pk
    )


def _expected_groups(hypothesis):
    return list(
        HypothesisUnit.objects.filter(hypothesis=hypothesis).values_list(
            "unit__index", "expected_group"
        )
    )


def test_the_author_revises_and_the_units_current_groups_become_the_expected_ones(
    project, layer, hypothesis, ada, curves
):
    edges = Group.objects.create(project=project, name="Edges")
    assignments_apply(project=project, changes=[(layer.units.get(index=1), edges)], actor=None)

    revised = hypothesis_revise(
        hypothesis=hypothesis,
        expected_version=1,
        actor=ada,
        text="Second draft.",
        units=["mixed3b:1", "mixed3b:3"],
    )

    assert revised.version == 2
    assert _row(hypothesis) == ("Curve detectors", "Second draft.", curves.pk, 2)
    assert _expected_groups(hypothesis) == [(1, edges.pk), (3, None)]
    event = Event.objects.get(verb="hypothesis.revised")
    assert (event.actor, event.target_id) == (ada, hypothesis.pk)
    assert event.before == {"text": "First draft.", "units": ["mixed3b:1"], "version": 1}
    assert event.after == {
        "text": "Second draft.",
        "units": ["mixed3b:1", "mixed3b:3"],
        "version": 2,
    }


def test_switching_to_a_new_group_clears_the_existing_one(hypothesis, ada):
    hypothesis_revise(
        hypothesis=hypothesis,
        expected_version=1,
        actor=ada,
        proposed_group_id=None,
        new_group={"name": "Small curves"},
    )

    assert Hypothesis.objects.values_list("proposed_group", "new_group").get() == (
        None,
        {"name": "Small curves", "parent": None, "description": "", "color": None},
    )


def test_proposing_both_an_existing_and_a_new_group_is_refused(hypothesis, ada):
    with pytest.raises(ValidationFailed) as raised:
        hypothesis_revise(
            hypothesis=hypothesis, expected_version=1, actor=ada, new_group={"name": "Small"}
        )

    assert raised.value.fields == {
        "new_group": ["Propose an existing group or a new one, not both."]
    }


def test_only_the_author_may_revise(project, hypothesis, curves):
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user

    with pytest.raises(PermissionDenied):
        hypothesis_revise(hypothesis=hypothesis, expected_version=1, actor=reviewer, text="Mine")

    assert _row(hypothesis) == ("Curve detectors", "First draft.", curves.pk, 1)
    assert not Event.objects.filter(verb="hypothesis.revised").exists()


def test_revising_a_version_that_changed_since_is_stale(hypothesis, ada, curves):
    hypothesis_revise(hypothesis=hypothesis, expected_version=1, actor=ada, text="Second.")

    with pytest.raises(VersionConflict) as raised:
        hypothesis_revise(hypothesis=hypothesis, expected_version=1, actor=ada, text="Third.")

    assert raised.value.fields == {"current_version": ["2"]}
    assert _row(hypothesis) == ("Curve detectors", "Second.", curves.pk, 2)


def test_an_accepted_hypothesis_cannot_be_revised(project, hypothesis, ada, curves):
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user
    review_submit(
        hypothesis=hypothesis, expected_version=1, verdict="approve", comment="", actor=reviewer
    )

    with pytest.raises(InvalidTransition) as raised:
        hypothesis_revise(hypothesis=hypothesis, expected_version=1, actor=ada, text="Late.")

    assert raised.value.code == "invalid_transition"
    assert raised.value.detail == (
        "This hypothesis is accepted; only an open hypothesis can be revised."
    )
    assert _row(hypothesis) == ("Curve detectors", "First draft.", curves.pk, 1)
    assert _expected_groups(hypothesis) == [(1, None)]


def test_what_a_revision_leaves_out_comes_from_the_version_the_client_read(hypothesis, ada, curves):
    hypothesis_revise(
        hypothesis=Hypothesis.objects.get(pk=hypothesis.pk),
        expected_version=1,
        actor=ada,
        text="Second draft.",
    )

    # ``hypothesis`` was loaded at version 1; the client read version 2.
    hypothesis_revise(hypothesis=hypothesis, expected_version=2, actor=ada, title="Curves")

    assert _row(hypothesis) == ("Curves", "Second draft.", curves.pk, 3)
