import pytest

from annotations.selectors.events import events_of, history_of
from server.errors import NotFound
from tests.factories.annotations import EventFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_a_project_feed_is_its_own_events_newest_first():
    project = ProjectFactory()
    first, second = EventFactory(project=project), EventFactory(project=project)
    EventFactory()

    assert list(events_of(project=project)) == [second, first]


def test_history_is_one_object_of_one_project_only():
    project = ProjectFactory()
    renamed = EventFactory(project=project, target_type="unit", target_id=7)
    EventFactory(project=project, target_type="unit", target_id=8)
    EventFactory(project=project, target_type="group", target_id=7)
    EventFactory(target_type="unit", target_id=7)

    assert list(history_of(project=project, target_type="unit", target_id=7)) == [renamed]


def test_history_of_an_unknown_kind_of_object_is_not_found():
    with pytest.raises(NotFound) as raised:
        history_of(project=ProjectFactory(), target_type="membership", target_id=1)

    assert (raised.value.code, raised.value.detail) == (
        "unknown_target_type",
        "No history for 'membership'; ask for one of group, unit, hypothesis, comment, "
        "circuit, link, round.",
    )
