from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from server.celery import app as celery_app
from workers.models import WorkerHeartbeat
from workers.tasks import prune_heartbeats

pytestmark = pytest.mark.django_db


def heartbeat(hostname, last_seen):
    return WorkerHeartbeat.objects.create(
        hostname=hostname,
        pid=1,
        queues=["gpu"],
        device="cpu",
        started_at=last_seen,
        last_seen=last_seen,
    )


def test_the_beat_schedule_runs_the_heartbeat_prune_on_the_default_queue():
    entries = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert "workers.tasks.prune_heartbeats" in celery_app.tasks
    assert entries["workers.tasks.prune_heartbeats"]["options"]["queue"] == "default"


def test_the_prune_deletes_workers_silent_for_a_day_and_keeps_the_others():
    now = timezone.now()
    heartbeat("dead@box", now - timedelta(days=1, minutes=1))
    heartbeat("quiet@box", now - timedelta(hours=23))
    heartbeat("live@box", now)

    assert prune_heartbeats() == 1

    assert sorted(WorkerHeartbeat.objects.values_list("hostname", flat=True)) == [
        "live@box",
        "quiet@box",
    ]
