"""A celery worker whose jobs pause before each progress report they make: the worker tests'
slow job, to kill or cancel midway.

Run as ``python -m tests.workers.slow_jobs <celery arguments>``; ``SLOW_JOBS_REPORT_DELAY``
is the pause in seconds. The pool processes are forked from this one, so each job kind's
``run`` is wrapped in them when they start.
"""

import dataclasses
import functools
import os
import sys
import time

from celery import signals

DELAY_VARIABLE = "SLOW_JOBS_REPORT_DELAY"


def _slowed(run, delay):
    @functools.wraps(run)
    def slow_run(job, network, artifacts, report):
        def slow_report(*args, **kwargs):
            time.sleep(delay)
            return report(*args, **kwargs)

        return run(job, network, artifacts, slow_report)

    return slow_run


@signals.worker_process_init.connect
def slow_every_job_kind(**kwargs):
    from workers.jobkinds import JOB_KINDS

    delay = float(os.environ[DELAY_VARIABLE])
    for name, kind in JOB_KINDS.items():
        JOB_KINDS[name] = dataclasses.replace(kind, run=_slowed(kind.run, delay))


if __name__ == "__main__":
    from celery.__main__ import main

    sys.argv[0] = "celery"
    sys.exit(main())
