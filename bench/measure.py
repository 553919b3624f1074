"""What every benchmark shares: timing, medians, machine facts, one JSON line per result.

Importing this module puts the repository root on ``sys.path``, so that a script run as
``.venv/bin/python bench/bench_x.py`` finds ``server`` and ``workers``.
"""

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RATIO_MEANING = "baseline median / candidate median; above 1 means the candidate is faster"


def median(samples):
    return statistics.median(samples)


def summary(samples, *, digits=6):
    """Median, min and max of timing samples, with the samples themselves."""
    return {
        "median": round(median(samples), digits),
        "min": round(min(samples), digits),
        "max": round(max(samples), digits),
        "samples": [round(sample, digits) for sample in samples],
    }


def milliseconds(samples):
    return [seconds * 1000 for seconds in samples]


def ratio(baseline, candidate):
    return round(baseline / candidate, 3) if candidate > 0 else None


@contextmanager
def stopwatch(record):
    """Append the seconds the block took to ``record`` (a list)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        record.append(time.perf_counter() - started)


def machine_facts(*, database=None):
    """Versions and sizes that decide how comparable two runs are."""
    import torch

    facts = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }
    if database is not None:
        facts.update(database)
    return facts


def emit(result):
    """Print one benchmark's result as one JSON object on one line of stdout."""
    print(json.dumps(result, sort_keys=False), flush=True)


def log(message):
    """Progress for the person watching; stderr, so stdout stays machine-readable."""
    print(message, file=sys.stderr, flush=True)


def setup_django():
    """Configure Django against a throwaway ``ATLAS_VAR_DIR``; returns that folder.

    The developer's ``var/`` is never touched: the embedded SQLite file, the broker folders
    and the media all go to a temporary folder removed at exit by the caller.
    """
    var_dir = tempfile.mkdtemp(prefix="atlas-bench-")
    os.environ["ATLAS_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    # Production runs without DEBUG; with it every query would also be logged in memory.
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    return var_dir


@contextmanager
def throwaway_database(name=None):
    """A freshly created and migrated database for the configured vendor, dropped afterwards.

    The test database gets a name of its own so that a test run beside this one, which uses
    Django's default test name, never sees it clobbered (``name``: that name on a server
    database; default ``atlas_bench_<pid>``).
    """
    from django.db import connection

    test_settings = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test_settings["NAME"] = str(Path(os.environ["ATLAS_VAR_DIR"]) / "bench.sqlite3")
    else:
        test_settings["NAME"] = name or f"atlas_bench_{os.getpid()}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


def throwaway_database_url():
    """A DATABASE_URL for the throwaway database this process created, for the servers and
    workers it starts."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def start_celery_worker(*, hostname, env, log_path, queues="gpu,default", beat_schedule=None):
    """A ``celery worker`` as production runs it (the command of ``make run``'s worker:
    concurrency 1, late acks from the settings), in its own process group, its output in
    ``log_path``; ``beat_schedule``: a file, to run the lease sweep's beat inside it too."""
    command = [sys.executable, "-m", "celery", "-A", "server", "worker"]
    command += ["--queues", queues, "--concurrency", "1", "--loglevel", "WARNING"]
    command += ["--hostname", hostname]
    if beat_schedule is not None:
        command += ["--beat", "--schedule", str(beat_schedule)]
    with Path(log_path).open("wb") as log:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_process_group(process, *, timeout=30):
    """SIGTERM a process started in its own session (a warm shutdown for celery), then
    SIGKILL its whole group if it is still there after ``timeout`` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def database_facts():
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
        else:
            cursor.execute("SELECT 1")
        version = str(cursor.fetchone()[0])
    return {"database_vendor": connection.vendor, "database_version": version}


class QueryCounter:
    """Counts SQL statements run on a connection, at the cost of one call per statement."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)
