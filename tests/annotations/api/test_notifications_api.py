from datetime import timedelta

import pytest
from django.utils import timezone

from annotations.models import Notification
from tests.factories.annotations import NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/api/v1/notifications/"


@pytest.fixture
def ada(api_client):
    ada = UserFactory(username="ada")
    api_client.force_authenticate(ada)
    return ada


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _json(notification):
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "project": notification.project.slug,
        "actor": notification.actor.username,
        "target_type": notification.target_type,
        "target_id": notification.target_id,
        "text": notification.text,
        "read_at": _iso(notification.read_at),
        "created_at": _iso(notification.created_at),
    }


def _unread(user):
    return sorted(
        Notification.objects.filter(recipient=user, read_at=None).values_list("pk", flat=True)
    )


def test_list_shows_only_my_notifications_newest_first(api_client, ada):
    older = NotificationFactory(
        recipient=ada,
        project__slug="curves",
        actor__username="voss",
        kind=Notification.Kind.REPLY,
        target_id=12,
        text="voss replied in a thread on unit inceptionv1/mixed3b:379",
    )
    newer = NotificationFactory(recipient=ada, read_at=timezone.now())
    NotificationFactory()
    Notification.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    older.refresh_from_db()

    response = api_client.get(NOTIFICATIONS)

    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [_json(newer), _json(older)],
    }
    assert response.json()["results"][1] == {
        "id": older.pk,
        "kind": "reply",
        "project": "curves",
        "actor": "voss",
        "target_type": "comment",
        "target_id": 12,
        "text": "voss replied in a thread on unit inceptionv1/mixed3b:379",
        "read_at": None,
        "created_at": _iso(older.created_at),
    }


def test_list_filters_unread(api_client, ada):
    unread = NotificationFactory(recipient=ada)
    read = NotificationFactory(recipient=ada, read_at=timezone.now())

    only_unread = api_client.get(NOTIFICATIONS, {"unread": "true"})
    only_read = api_client.get(NOTIFICATIONS, {"unread": "false"})

    assert [row["id"] for row in only_unread.json()["results"]] == [unread.pk]
    assert [row["id"] for row in only_read.json()["results"]] == [read.pk]


def test_list_costs_the_same_queries_for_many_notifications(
    api_client, ada, django_assert_num_queries
):
    NotificationFactory.create_batch(6, recipient=ada)

    # count, page with projects and actors
    with django_assert_num_queries(2):
        response = api_client.get(NOTIFICATIONS)

    assert response.json()["count"] == 6


def test_unread_count_counts_only_my_unread_notifications(api_client, ada):
    NotificationFactory.create_batch(3, recipient=ada)
    NotificationFactory(recipient=ada, read_at=timezone.now())
    NotificationFactory()

    response = api_client.get(f"{NOTIFICATIONS}unread-count/")

    assert response.status_code == 200
    assert response.json() == {"count": 3}


def test_mark_read_marks_the_given_ids_of_mine_only(api_client, ada):
    first, second = NotificationFactory.create_batch(2, recipient=ada)
    someone_elses = NotificationFactory()

    response = api_client.post(f"{NOTIFICATIONS}mark-read/", {"ids": [first.pk, someone_elses.pk]})

    assert response.status_code == 200
    assert response.json() == {"marked": 1}
    assert _unread(ada) == [second.pk]
    assert _unread(someone_elses.recipient) == [someone_elses.pk]


def test_mark_read_all_marks_every_one_of_mine(api_client, ada):
    NotificationFactory.create_batch(2, recipient=ada)
    someone_elses = NotificationFactory()

    response = api_client.post(f"{NOTIFICATIONS}mark-read/", {"all": True})

    assert response.json() == {"marked": 2}
    assert _unread(ada) == []
    assert _unread(someone_elses.recipient) == [someone_elses.pk]


@pytest.mark.parametrize("body", [{}, {"all": False}, {"ids": []}])
def test_mark_read_without_ids_or_all_marks_nothing(api_client, ada, body):
    mine = NotificationFactory(recipient=ada)

    response = api_client.post(f"{NOTIFICATIONS}mark-read/", body, format="json")

    assert (response.status_code, response.json()) == (200, {"marked": 0})
    assert _unread(ada) == [mine.pk]


def test_mark_read_with_all_marks_every_one_whatever_ids_say(api_client, ada):
    NotificationFactory(recipient=ada)
    NotificationFactory(recipient=ada)

    response = api_client.post(
        f"{NOTIFICATIONS}mark-read/", {"all": True, "ids": [1]}, format="json"
    )

    assert (response.status_code, response.json()) == (200, {"marked": 2})
    assert _unread(ada) == []


def test_anonymous_requests_are_refused(api_client):
    responses = [
        api_client.get(NOTIFICATIONS),
        api_client.get(f"{NOTIFICATIONS}unread-count/"),
        api_client.post(f"{NOTIFICATIONS}mark-read/", {"all": True}),
    ]

    assert [response.status_code for response in responses] == [401, 401, 401]
