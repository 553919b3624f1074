import pytest

from annotations.models import Event, Hypothesis, Role
from annotations.services.hypotheses import hypothesis_withdraw
from server.errors import InvalidTransition, PermissionDenied
from tests.factories.annotations import HypothesisFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hypothesis():
    hypothesis = HypothesisFactory(title="Curve detectors")
    MembershipFactory(project=hypothesis.project, user=hypothesis.author, role=Role.ANNOTATOR)
    return hypothesis


def _status():
    return Hypothesis.objects.values_list("status", flat=True).get()


def test_the_author_withdraws_an_open_hypothesis(hypothesis):
    withdrawn = hypothesis_withdraw(
        hypothesis=hypothesis, expected_version=1, actor=hypothesis.author
    )

    assert withdrawn.status == _status() == "withdrawn"
    event = Event.objects.get()
    assert (event.verb, event.actor, event.target_id, event.before, event.after) == (
        "hypothesis.withdrawn",
        hypothesis.author,
        hypothesis.pk,
        {"status": "open"},
        {"status": "withdrawn"},
    )


@pytest.mark.parametrize("role", [Role.OWNER, Role.REVIEWER, Role.ANNOTATOR])
def test_nobody_but_the_author_may_withdraw(hypothesis, role):
    member = MembershipFactory(project=hypothesis.project, role=role).user

    with pytest.raises(PermissionDenied):
        hypothesis_withdraw(hypothesis=hypothesis, expected_version=1, actor=member)

    assert _status() == "open"
    assert Event.objects.count() == 0


def test_a_withdrawn_hypothesis_cannot_be_withdrawn_again(hypothesis):
    hypothesis_withdraw(hypothesis=hypothesis, expected_version=1, actor=hypothesis.author)

    with pytest.raises(InvalidTransition) as raised:
        hypothesis_withdraw(hypothesis=hypothesis, expected_version=1, actor=hypothesis.author)

    assert raised.value.detail == (
        "This hypothesis is withdrawn; only an open hypothesis can be withdrawn."
    )
    assert Event.objects.count() == 1
