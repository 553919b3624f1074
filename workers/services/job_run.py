"""Running one job inside a worker process, from claim to a finished state."""

import logging
import time

from django.db import DatabaseError, InterfaceError, OperationalError, transaction

from workers import runtime
from workers.engine.errors import EngineError
from workers.jobkinds import JOB_KINDS
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
    report = ProgressReporter(job, worker, on_progress=on_progress)
    artifacts = ArtifactBatch(job)
    timings = {}
    started = time.perf_counter()
    try:
        network = runtime.network_for(job.network)
        timings["load_seconds"] = round(time.perf_counter() - started, 4)
        report(0, 1, "network loaded", force=True)
        timings.update(JOB_KINDS[job.kind].run(job, network, artifacts, report) or {})
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
        try:
            job_release(job=job, worker=worker)
        except DatabaseError:
            logger.exception("job %s: could not release; the lease sweep will requeue it", job_id)
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
