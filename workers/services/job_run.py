"""Running one job inside a worker process, from claim to a finished state."""

import logging
import time

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction

from workers import runtime
from workers.engine.errors import EngineError
from workers.jobkinds import JOB_KINDS
from workers.models import Job
from workers.services.artifacts import ArtifactBatch
from workers.services.jobs import (
    JobCancelled,
    JobLost,
    ProgressReporter,
    job_claim,
    job_fail,
    job_mark_cancelled,
    job_release,
    job_succeed,
)

logger = logging.getLogger(__name__)

# Errors worth another try: the database or the network hiccupped, not the job itself.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
# Tries to give a job back after a transient error, a second apart and then two, before
# leaving it to the lease sweep (which counts it as a lost worker).
RELEASE_TRIES = 3


# The jobs this process is running now: its heartbeat renews their leases and no others, so a
# job this process gave up on (a release that failed) runs out of lease and the sweep takes it.
_running = set()


def running_job_ids():
    return sorted(_running)


class TransientJobError(Exception):
    """The job was given back to the queue after a transient failure; the task may retry."""


def job_run(*, job_id, worker=None, on_progress=None):
    """Claim and run ``job_id`` here; a no-op when the job is not ours to run (duplicate
    delivery, already finished, cancelled). Returns the job's final status or None.

    ``on_progress(done, total, message)`` sees every progress report (the command line's bar).
    """
    worker = worker or runtime.worker_id()
    job = job_claim(job_id=job_id, worker=worker, device=runtime.device_name())
    if job is None:
        logger.info("job %s: not claimable here, skipping", job_id)
        return None
    _running.add(job.pk)
    try:
        return _run_claimed(job, worker, on_progress)
    finally:
        _running.discard(job.pk)


def _run_claimed(job, worker, on_progress):
    job_id = job.pk
    report = ProgressReporter(job, worker, on_progress=on_progress)
    artifacts = ArtifactBatch(job)
    timings = {}
    started = time.perf_counter()
    try:
        job_kind = JOB_KINDS[job.kind]
        # inspect_network runs a user's model only in a limited child process, never here.
        network = runtime.network_for(job.network) if job_kind.loads_network else None
        timings["load_seconds"] = round(time.perf_counter() - started, 4)
        report(0, 1, "network loaded", force=True)
        timings.update(job_kind.run(job, network, artifacts, report) or {})
        timings["total_seconds"] = round(time.perf_counter() - started, 4)
        with transaction.atomic():
            artifacts.commit()
            if not job_succeed(job=job, worker=worker, timings=timings):
                raise JobLost(f"job {job_id} was taken away before it could finish")
        return "succeeded"
    except JobCancelled:
        # Batches recorded before the cancel stay: they are finished work.
        artifacts.discard()
        job_mark_cancelled(job=job, worker=worker)
        return "cancelled"
    except JobLost:
        # Another worker owns the job now and writes the same file names; leave them be.
        logger.warning("job %s: lease lost to another worker; stopping", job_id)
        return None
    except EngineError as error:
        artifacts.discard()
        job_fail(job=job, worker=worker, error=str(error), code=error.code, timings=timings)
        return "failed"
    except TRANSIENT_ERRORS as error:
        logger.warning("job %s: transient error %r; giving it back to the queue", job_id, error)
        status = _give_back(job, worker, error)
        if status == Job.Status.FAILED:
            artifacts.discard()
            return "failed"
        if status is None:
            return None
        raise TransientJobError(str(error)) from error
    except Exception as error:
        logger.exception("job %s failed", job_id)
        artifacts.discard()
        job_fail(
            job=job,
            worker=worker,
            error=f"{type(error).__name__}: {error}",
            code="internal_error",
            timings=timings,
        )
        return "failed"


def _give_back(job, worker, error):
    """``job_release`` on a fresh connection, retried briefly: the error that brought us here
    has usually broken this thread's connection, and a release that fails leaves the job to
    the lease sweep, which would spend an attempt on it."""
    kind = "database" if isinstance(error, DatabaseError) else "network"
    message = " ".join(str(error).split())
    cause = f"a transient {kind} error: {type(error).__name__}: {message}"
    for number in range(1, RELEASE_TRIES + 1):
        # Inside a transaction (a caller's, or a test's) the connection is not ours to drop.
        if not connection.in_atomic_block:
            connection.close()
        try:
            return job_release(job=job, worker=worker, cause=cause)
        except DatabaseError:
            logger.warning("job %s: release %d of %d failed", job.pk, number, RELEASE_TRIES)
            if number < RELEASE_TRIES:
                time.sleep(number)
    logger.error("job %s: could not give it back; the lease sweep will requeue it", job.pk)
    return Job.Status.RUNNING
