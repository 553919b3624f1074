"""Who may do what on a labelling round, open and closed (``annotations/policies.py``)."""

import pytest

from annotations.policies import can
from annotations.services.rounds import round_close
from tests.factories.annotations import UserFactory

pytestmark = pytest.mark.django_db

PEOPLE = ["owner", "rev", "ada", "cy", "vic"]

# ada is a participant; cy an annotator outside the round; vic a viewer.
OPEN = {
    "round.view": {"owner", "rev", "ada", "cy", "vic"},
    "round.open": {"owner", "rev"},
    "round.progress": {"owner", "rev"},
    "round.label": {"ada"},
    "round.results": set(),
    "round.close": {"owner"},
    "round.decide": set(),
}
CLOSED = {
    **OPEN,
    "round.results": {"owner", "rev", "ada", "cy", "vic"},
    "round.decide": {"owner", "rev"},
}


@pytest.mark.parametrize("action", OPEN)
def test_who_may_act_on_an_open_round(labelling_round, people, action):
    allowed = {name for name in PEOPLE if can(people[name], action, labelling_round)}

    assert allowed == OPEN[action]


@pytest.mark.parametrize("action", CLOSED)
def test_who_may_act_on_a_closed_round(labelling_round, people, action):
    round_close(labelling_round=labelling_round, actor=people["owner"])
    labelling_round.refresh_from_db()

    allowed = {name for name in PEOPLE if can(people[name], action, labelling_round)}

    assert allowed == CLOSED[action]


def test_a_superuser_cannot_read_an_open_rounds_labels_either(labelling_round):
    admin = UserFactory(is_superuser=True)

    assert can(admin, "round.results", labelling_round) is False
    assert can(admin, "round.label", labelling_round) is False


def test_a_non_member_may_not_even_see_the_round(labelling_round):
    assert can(UserFactory(), "round.view", labelling_round) is False
