"""Signals ``workers`` sends for the rest of the project, which it never imports.

``job_finished`` is sent once a job's final state (succeeded or failed) has committed, with
``job_id`` and ``status``; receivers run outside the job's transaction and must not fail the
worker (``send_robust``). The annotations side turns it into webhook deliveries.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

job_finished = Signal()


def job_finished_after_commit(*, job_id, status):
    """Send ``job_finished`` for ``job_id`` once the current transaction commits."""
    transaction.on_commit(lambda: _send(job_id, status))


def _send(job_id, status):
    from workers.models import Job

    for receiver, outcome in job_finished.send_robust(sender=Job, job_id=job_id, status=status):
        if isinstance(outcome, Exception):
            logger.warning("job %s: %r failed on job_finished: %r", job_id, receiver, outcome)
