"""A hypothesis opened or revised asks each member who may review it, by a notification."""

import pytest

from annotations.models import Notification, Role
from annotations.services.hypotheses import hypothesis_create, hypothesis_revise
from server.errors import ValidationFailed
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
def team(project):
    return {
        name: MembershipFactory(project=project, user__username=name, role=role).user
        for name, role in [
            ("olah", Role.OWNER),
            ("rev", Role.REVIEWER),
            ("ada", Role.ANNOTATOR),
            ("bo", Role.ANNOTATOR),
            ("voss", Role.VIEWER),
        ]
    }


def _create(project, layer, actor, title="Curve detectors"):
    return hypothesis_create(
        project=project,
        network=layer.network,
        title=title,
        text="They respond to curves.",
        units=["mixed3b:1"],
        actor=actor,
    )


def _requests():
    return list(
        Notification.objects.filter(kind=Notification.Kind.REVIEW_REQUEST)
        .order_by("id")
        .values_list("recipient__username", "target_type", "text")
    )


def test_a_new_hypothesis_asks_the_owners_and_reviewers_and_nobody_else(project, layer, team):
    hypothesis = _create(project, layer, team["ada"])

    text = f"ada asks for your review of hypothesis #{hypothesis.pk}: Curve detectors"
    assert _requests() == [("olah", "hypothesis", text), ("rev", "hypothesis", text)]
    assert set(Notification.objects.values_list("target_id", flat=True)) == {hypothesis.pk}


def test_a_reviewer_who_proposes_is_not_asked_to_review_their_own_hypothesis(project, layer, team):
    _create(project, layer, team["rev"])

    assert [row[0] for row in _requests()] == ["olah"]


def test_a_revision_asks_again_for_the_new_version(project, layer, team):
    hypothesis = _create(project, layer, team["ada"])

    hypothesis_revise(
        hypothesis=hypothesis, expected_version=1, actor=team["ada"], title="Curves, revised"
    )

    text = f"ada revised; it needs your review again: hypothesis #{hypothesis.pk}: Curves, revised"
    assert _requests()[2:] == [("olah", "hypothesis", text), ("rev", "hypothesis", text)]


def test_a_refused_hypothesis_asks_nobody(project, layer, team):
    with pytest.raises(ValidationFailed):
        _create(project, layer, team["ada"], title="")

    assert _requests() == []
