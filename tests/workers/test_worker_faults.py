"""Real worker processes (and a real web process) ride out faults of the services under them.

The database dropping the worker's connections mid-job is retried without spending the job's
attempts; a Redis outage (cache and broker) leaves the web answering, and a job requested
during it runs once Redis is back, sent by the sweep rather than after the stale-job delay.
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from annotations.models import Role
from annotations.services.networks import project_network_register
from server.celery import app as celery_app
from tests.factories.annotations import PASSWORD, MembershipFactory, ProjectFactory, UserFactory
from tests.redis_server import RedisServer, unused_port
from tests.workers.test_worker_process import (
    Worker,
    database_url,
    job_status,
    request_first_layer_job,
    wait_for,
)
from workers.models import Job

pytestmark = [pytest.mark.worker_process, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def workers(tmp_path, media_root):
    """Starts workers on the test's broker (emptied first) and stops them after the test."""
    started = []

    def start(report_delay=None, **env):
        started.append(Worker(tmp_path, media_root, report_delay, **env))
        return started[-1]

    with celery_app.connection_for_write() as broker:
        for queue in ("gpu", "default"):
            broker.default_channel.queue_purge(queue)
    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def researcher():
    """A researcher whose project studies a MobileNetV2."""
    user = UserFactory(username="olah")
    project = ProjectFactory(slug="early-vision")
    MembershipFactory(project=project, user=user, role=Role.ANNOTATOR)
    project_network_register(
        project=project,
        actor=None,
        name="mobilenet-v2",
        arch="mobilenet_v2",
        bundled_weights=True,
    )
    return user


def terminate_other_database_connections():
    """Every connection to the test database but this one, as an administrator would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return sum(1 for (terminated,) in cursor.fetchall() if terminated)


def running_after_retries(job_id, retries):
    job = Job.objects.get(pk=job_id)
    return job.status == "running" and job.transient_retries == retries and job.progress >= 0.1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="terminating a worker's database connections needs PostgreSQL's pg_terminate_backend",
)
def test_a_job_whose_database_connections_are_terminated_three_times_succeeds_on_one_attempt(
    researcher, workers
):
    client = APIClient()
    client.force_authenticate(researcher)
    job_id = request_first_layer_job(client).json()["id"]
    worker = workers(report_delay=0.2, ATLAS_JOB_TRANSIENT_BACKOFF_SECONDS=0.1)

    for retries in range(3):
        wait_for(lambda r=retries: running_after_retries(job_id, r), worker, timeout=120)
        assert terminate_other_database_connections() >= 1

    wait_for(lambda: job_status(job_id)[0] in ("succeeded", "failed"), worker, timeout=180)
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts, job.transient_retries) == ("succeeded", 1, 3)
    assert job.progress_message == "done, retried 3x after transient errors"


class WebServer:
    """``manage.py runserver`` in its own process, on the test's database and Redis."""

    def __init__(self, folder, **env):
        self.port = unused_port()
        self.log_path = Path(folder) / f"web-{uuid.uuid4().hex[:8]}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            cwd=settings.BASE_DIR,
            env={**os.environ, "DATABASE_URL": database_url(), **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def request(self, method, path, body=None, token=None):
        """``(status, parsed JSON body)`` of one request."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Token {token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")[:2000]

    def answering(self):
        try:
            return self.request("GET", "/api/v1/health/")[0] in (200, 503)
        except OSError:
            return False

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.log.close()

    def output(self):
        return self.log_path.read_text(errors="replace")[-6000:]


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def web_and_worker(tmp_path, media_root, redis_server):
    """A web process and a worker sharing one Redis, the cache and the broker, that the test
    owns; the worker sweeps every 2 s and resends stale queued jobs only after an hour."""
    env = {
        "ATLAS_CACHE_URL": redis_server.url(0),
        "CELERY_BROKER_URL": redis_server.url(1),
        "MEDIA_ROOT": str(media_root),
        "ATLAS_REQUEUE_QUEUED_AFTER_SECONDS": "3600",
    }
    web = WebServer(tmp_path, **env)
    worker = Worker(tmp_path, media_root, ATLAS_SWEEP_SECONDS=2, **env)
    try:
        wait_for(web.answering, worker, timeout=60)
        yield web, worker
    finally:
        worker.stop()
        web.stop()


GRID = "/api/v1/projects/early-vision/grid/mobilenet-v2/features.0/"
FIRST_LAYER_JOB = {"network": "mobilenet-v2", "kind": "first_layer_weights", "layer": "features.0"}


def test_the_web_answers_through_a_redis_outage_and_a_job_asked_for_during_it_runs_after(
    researcher, redis_server, web_and_worker
):
    web, worker = web_and_worker
    credentials = {"username": researcher.username, "password": PASSWORD}
    status, signed_in = web.request("POST", "/api/v1/auth/token/", credentials)
    assert status == 200, signed_in
    token = signed_in["token"]
    assert web.request("GET", GRID, token=token)[0] == 200

    redis_server.stop()

    sign_in = web.request("POST", "/api/v1/auth/token/", credentials)
    grid = web.request("GET", GRID, token=token)
    created = web.request("POST", "/api/v1/jobs/", FIRST_LAYER_JOB, token=token)
    health = web.request("GET", "/api/v1/health/")
    assert (sign_in[0], grid[0], created[0], health[0]) == (200, 200, 201, 503), web.output()
    job_id = created[1]["id"]
    assert Job.objects.values_list("status", "enqueued_at").get(pk=job_id) == ("queued", None)

    redis_server.start()

    wait_for(lambda: job_status(job_id)[0] in ("succeeded", "failed"), worker, timeout=180)
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts) == ("succeeded", 1)
    assert web.request("GET", "/api/v1/health/")[0] == 200
