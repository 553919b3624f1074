import datetime

import pytest
from rest_framework.test import APIClient

from annotations.models import Event, Role
from tests.factories.annotations import EventFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/projects/curves/events/"


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def viewer():
    return MembershipFactory(role=Role.VIEWER, project__slug="curves")


@pytest.fixture
def client(viewer):
    client = APIClient()
    client.force_authenticate(viewer.user)
    return client


def _ids(response):
    return _ids_of(response.json())


def _ids_of(page):
    return [event["id"] for event in page["results"]]


def test_the_feed_shows_the_project_events_newest_first(client, viewer):
    older = EventFactory(project=viewer.project, actor__username="chris")
    newer = EventFactory(
        project=viewer.project,
        actor=None,
        verb="group.renamed",
        target_type="group",
        target_id=4,
        target_label="Curve detectors",
        before={"name": "Curves"},
        after={"name": "Curve detectors"},
    )
    EventFactory()

    response = client.get(EVENTS)

    assert response.status_code == 200
    assert response.json()["results"][0] == {
        "id": newer.pk,
        "verb": "group.renamed",
        "actor": None,
        "target_type": "group",
        "target_id": 4,
        "target_label": "Curve detectors",
        "before": {"name": "Curves"},
        "after": {"name": "Curve detectors"},
        "created_at": _iso(newer.created_at),
    }
    assert response.json()["results"][1]["actor"] == "chris"
    assert _ids(response) == [newer.pk, older.pk]


def test_the_feed_is_paginated_by_cursor_newest_first(client, viewer):
    events = EventFactory.create_batch(5, project=viewer.project)

    first = client.get(EVENTS, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    assert "count" not in first
    assert [_ids_of(page) for page in (first, second, third)] == [
        [events[4].pk, events[3].pk],
        [events[2].pk, events[1].pk],
        [events[0].pk],
    ]
    assert (first["previous"], third["next"]) == (None, None)
    assert _ids_of(client.get(third["previous"]).json()) == [events[2].pk, events[1].pk]


def test_events_written_after_the_first_page_do_not_shift_the_next(client, viewer):
    older = EventFactory.create_batch(3, project=viewer.project)
    first = client.get(EVENTS, {"page_size": 2}).json()
    EventFactory.create_batch(2, project=viewer.project)

    second = client.get(first["next"]).json()

    assert _ids_of(second) == [older[0].pk]


def test_events_at_the_same_moment_are_neither_skipped_nor_repeated(client, viewer):
    events = EventFactory.create_batch(5, project=viewer.project)
    Event.objects.filter(pk__in=[event.pk for event in events]).update(
        created_at=datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)
    )
    seen = []
    page = client.get(EVENTS, {"page_size": 2}).json()
    seen += _ids_of(page)
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += _ids_of(page)

    assert seen == [event.pk for event in reversed(events)]


def test_the_feed_costs_the_same_queries_for_many_events(client, viewer, django_assert_num_queries):
    EventFactory.create_batch(30, project=viewer.project)

    with django_assert_num_queries(2):
        response = client.get(EVENTS)

    assert len(response.json()["results"]) == 30


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"verb": "group.renamed"}, ["renamed"]),
        ({"actor": "chris"}, ["assigned"]),
        ({"target_type": "unit"}, ["assigned"]),
        ({"target_type": "group", "target_id": 4}, ["renamed"]),
    ],
)
def test_the_feed_filters_by_verb_actor_and_target(client, viewer, query, expected):
    events = {
        "renamed": EventFactory(
            project=viewer.project, verb="group.renamed", target_type="group", target_id=4
        ),
        "assigned": EventFactory(
            project=viewer.project,
            verb="unit.assigned",
            target_type="unit",
            target_id=4,
            actor=UserFactory(username="chris"),
        ),
        "created": EventFactory(project=viewer.project, target_type="group", target_id=5),
    }

    response = client.get(EVENTS, query)

    assert _ids(response) == [events[name].pk for name in expected]


def test_the_feed_filters_by_time_since_inclusive_until_exclusive(client, viewer):
    noon = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)
    for hours in (0, 1, 2, 3):
        event = EventFactory(project=viewer.project, target_id=hours)
        Event.objects.filter(pk=event.pk).update(created_at=noon + datetime.timedelta(hours=hours))

    response = client.get(
        EVENTS, {"since": "2026-03-01T13:00:00Z", "until": "2026-03-01T15:00:00Z"}
    )

    assert [event["target_id"] for event in response.json()["results"]] == [2, 1]


DATE_TIME_EXPECTED = "A date-time with its offset, like 2026-03-01T13:00:00Z."


def test_a_malformed_since_is_a_400(client):
    response = client.get(EVENTS, {"since": "yesterday"})

    assert response.status_code == 400
    assert response.json()["fields"] == {"since": [DATE_TIME_EXPECTED]}


@pytest.mark.parametrize(
    "value",
    ["2026-03-01", "2026-03-01 13:00:00Z", "2026-03-01T13:00:00", "20260301T130000Z"],
)
def test_until_that_is_no_rfc3339_date_time_is_a_400(client, value):
    response = client.get(EVENTS, {"until": value})

    assert response.status_code == 400
    assert response.json()["fields"] == {"until": [DATE_TIME_EXPECTED]}


def test_an_empty_until_is_one_not_given(client):
    response = client.get(EVENTS, {"until": ""})

    assert response.status_code == 200


def test_the_feed_takes_an_offset_and_a_fraction_of_a_second(client, viewer):
    noon = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)
    event = EventFactory(project=viewer.project)
    Event.objects.filter(pk=event.pk).update(created_at=noon)

    response = client.get(EVENTS, {"since": "2026-03-01t13:59:59.5+02:00"})

    assert _ids(response) == [event.pk]


def test_the_feed_takes_a_leap_second(client, viewer):
    midnight = datetime.datetime(2017, 1, 1, tzinfo=datetime.UTC)
    event = EventFactory(project=viewer.project)
    Event.objects.filter(pk=event.pk).update(created_at=midnight)

    response = client.get(EVENTS, {"since": "2016-12-31T23:59:60Z"})

    assert _ids(response) == [event.pk]


@pytest.mark.parametrize(
    ("since", "until"),
    [("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"), ("0000-01-01T00:00:00Z", None)],
)
def test_a_moment_past_the_calendar_ends_bounds_nothing(client, viewer, since, until):
    event = EventFactory(project=viewer.project)

    response = client.get(EVENTS, {"since": since, **({"until": until} if until else {})})

    assert _ids(response) == [event.pk]


@pytest.mark.parametrize("target_type", ["group", "unit", "hypothesis", "comment"])
def test_history_shows_one_object_of_this_project(client, viewer, target_type):
    mine = EventFactory(project=viewer.project, target_type=target_type, target_id=9)
    EventFactory(project=viewer.project, target_type=target_type, target_id=10)
    EventFactory(project=viewer.project, target_type="circuit", target_id=9)
    EventFactory(target_type=target_type, target_id=9)

    response = client.get(f"/api/v1/projects/curves/history/{target_type}/9/")

    assert response.status_code == 200
    assert _ids(response) == [mine.pk]


def test_history_of_an_unknown_kind_of_object_is_a_404(client):
    response = client.get("/api/v1/projects/curves/history/membership/1/")

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_target_type"


def test_history_costs_the_same_queries_for_many_events(client, viewer, django_assert_num_queries):
    EventFactory.create_batch(30, project=viewer.project, target_type="unit", target_id=3)

    with django_assert_num_queries(3):
        response = client.get("/api/v1/projects/curves/history/unit/3/")

    assert response.json()["count"] == 30


def test_another_project_events_are_a_404_for_a_non_member(viewer):
    EventFactory(project=viewer.project)
    client = APIClient()
    client.force_authenticate(MembershipFactory().user)

    feed = client.get(EVENTS)
    history = client.get("/api/v1/projects/curves/history/group/1/")

    assert (feed.status_code, history.status_code) == (404, 404)
