from datetime import timedelta

import pytest
from django.utils import timezone

from server import health
from tests.factories.annotations import UserFactory
from workers.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def heartbeat(**fields):
    now = timezone.now()
    return WorkerHeartbeat.objects.create(
        **{
            "hostname": "gpu1@box",
            "pid": 42,
            "queues": ["gpu"],
            "device": "cuda:0",
            "started_at": now,
            "last_seen": now,
            **fields,
        }
    )


def test_health_reports_database_broker_and_live_workers_to_staff(api_client, settings):
    settings.ATLAS_HEARTBEAT_SECONDS = 10
    api_client.force_authenticate(UserFactory(is_staff=True))
    heartbeat()
    heartbeat(hostname="gpu2@box", last_seen=timezone.now() - timedelta(minutes=5))

    response = api_client.get("/api/v1/health/")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert [(w["hostname"], w["queues"], w["device"]) for w in body["workers"]] == [
        ("gpu1@box", ["gpu"], "cuda:0")
    ]


def test_health_is_503_when_the_broker_is_unreachable(api_client, monkeypatch):
    monkeypatch.setattr(health, "broker_ok", lambda: False)
    api_client.force_authenticate(UserFactory(is_staff=True))

    response = api_client.get("/api/v1/health/")

    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["broker"]["ok"] is False


def test_anonymous_health_is_only_the_status(api_client):
    heartbeat()

    response = api_client.get("/api/v1/health/")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_a_signed_in_user_who_is_not_staff_sees_only_the_status(api_client):
    heartbeat()
    api_client.force_authenticate(UserFactory())

    response = api_client.get("/api/v1/health/")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_anonymous_health_is_503_degraded_without_saying_why(api_client, monkeypatch):
    monkeypatch.setattr(health, "broker_ok", lambda: False)

    response = api_client.get("/api/v1/health/")

    assert (response.status_code, response.json()) == (503, {"status": "degraded"})
