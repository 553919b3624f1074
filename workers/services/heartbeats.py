"""Worker processes report themselves alive, with their device and queues."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from workers.models import WorkerHeartbeat


def worker_heartbeat(*, hostname, pid, queues, device, started_at):
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        pid=pid,
        defaults={
            "queues": sorted(queues),
            "device": device,
            "started_at": started_at,
            "last_seen": now,
        },
    )


def worker_gone(*, hostname, pid):
    WorkerHeartbeat.objects.filter(hostname=hostname, pid=pid).delete()


def live_workers():
    """Workers heard from within three heartbeat intervals."""
    cutoff = timezone.now() - timedelta(seconds=3 * settings.ATLAS_HEARTBEAT_SECONDS)
    return list(WorkerHeartbeat.objects.filter(last_seen__gte=cutoff))


def heartbeats_prune():
    """Forget workers silent for a day (killed without a chance to say goodbye)."""
    cutoff = timezone.now() - timedelta(days=1)
    return WorkerHeartbeat.objects.filter(last_seen__lt=cutoff).delete()[0]
