"""Celery worker signal handlers: heartbeat and lease renewal in each child, a sweep at start.

The parent process only learns its queues and sweeps the database; the child processes pick
the device (the only place CUDA may be touched) and keep a heartbeat thread that also renews
the leases of the jobs they run, so a long optimisation step never loses its job.
"""

import logging
import os
import socket
import threading

from celery import signals
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

logger = logging.getLogger(__name__)

_state = {"queues": [], "hostname": socket.gethostname()}


@signals.celeryd_after_setup.connect
def remember_queues(sender, instance, **kwargs):
    _state["hostname"] = str(sender)
    _state["queues"] = sorted(instance.app.amqp.queues.consume_from)


@signals.worker_ready.connect
def sweep_on_start(sender, **kwargs):
    from workers.services.jobs import jobs_sweep

    try:
        jobs_sweep()
    except DatabaseError:
        logger.exception("lease sweep at worker start failed")
    finally:
        # The parent forks children later; they must not inherit its database connections.
        connections.close_all()


def _beat(stop, started_at):
    from workers import runtime
    from workers.services.heartbeats import worker_heartbeat
    from workers.services.job_run import running_job_ids
    from workers.services.jobs import job_leases_renew

    device = runtime.device_name()
    while True:
        close_old_connections()
        try:
            worker_heartbeat(
                hostname=_state["hostname"],
                pid=os.getpid(),
                queues=_state["queues"],
                device=device,
                started_at=started_at,
            )
            job_leases_renew(worker=runtime.worker_id(), job_ids=running_job_ids())
        except DatabaseError:
            logger.exception("worker heartbeat failed")
        finally:
            connections.close_all()
        if stop.wait(settings.ATLAS_HEARTBEAT_SECONDS):
            return


_stop = threading.Event()


@signals.worker_process_init.connect
def start_heartbeat(**kwargs):
    connections.close_all()
    thread = threading.Thread(
        target=_beat, args=(_stop, timezone.now()), name="atlas-heartbeat", daemon=True
    )
    thread.start()


@signals.worker_process_shutdown.connect
def stop_heartbeat(**kwargs):
    from workers.services.heartbeats import worker_gone

    _stop.set()
    try:
        worker_gone(hostname=_state["hostname"], pid=os.getpid())
    except DatabaseError:
        logger.exception("could not remove the worker heartbeat")
