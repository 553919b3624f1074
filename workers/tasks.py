"""Celery tasks: thin wrappers that take ids and call one service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from workers.services.heartbeats import heartbeats_prune
from workers.services.job_run import TransientJobError, job_run
from workers.services.jobs import jobs_sweep


@shared_task(
    name="workers.tasks.run_job",
    queue="gpu",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def run_job(job_id):
    """Run a render job. Only a transient database error before the claim retries the task;
    a job given back after a transient error mid-run is enqueued again by ``job_release``."""
    try:
        return job_run(job_id=job_id)
    except TransientJobError:
        return "requeued"


@shared_task(name="workers.tasks.sweep_jobs", queue="default")
def sweep_jobs():
    """Requeue jobs of lost workers, fail jobs out of attempts, resend stale queued jobs."""
    return jobs_sweep()


@shared_task(name="workers.tasks.prune_heartbeats", queue="default")
def prune_heartbeats():
    """Forget the heartbeats of workers silent for a day."""
    return heartbeats_prune()
