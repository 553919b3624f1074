"""A real ``celery worker`` process runs jobs against the test database and broker.

These tests start the worker the way production does (prefork child, late acks, embedded
beat for the lease sweep) and kill it with SIGKILL in the middle of a job.
"""

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.db import connection
from PIL import Image
from rest_framework.test import APIClient

from annotations.models import Role
from annotations.services.networks import project_network_register
from annotations.services.tokens import token_create
from server.celery import app as celery_app
from tests.factories.annotations import MembershipFactory, ProjectFactory, UserFactory
from tests.workers import slow_jobs
from workers.models import Artifact, Job
from workers.services.datasets import dataset_register

pytestmark = [pytest.mark.worker_process, pytest.mark.django_db(transaction=True)]

FIRST_LAYER_UNITS = 32
ARTIFACTS_PER_JOB = 2 * FIRST_LAYER_UNITS + 2


def database_url():
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A celery worker subprocess in its own process group, with its log kept for failures.

    report_delay: seconds its jobs pause before each progress report (tests/workers/slow_jobs.py),
    so that a job is still running when the test kills its worker or cancels it.
    """

    def __init__(self, folder, media_root, report_delay=None, **env):
        self.log_path = Path(folder) / f"worker-{uuid.uuid4().hex[:8]}.log"
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "MEDIA_ROOT": str(media_root),
            "ATLAS_DEVICE": "cpu",
            "ATLAS_JOB_LEASE_SECONDS": "3",
            "ATLAS_HEARTBEAT_SECONDS": "0.5",
            "ATLAS_SWEEP_SECONDS": "1",
            "ATLAS_PROGRESS_MIN_INTERVAL_SECONDS": "0.1",
            **{key: str(value) for key, value in env.items()},
        }
        if report_delay is not None:
            environment[slow_jobs.DELAY_VARIABLE] = str(report_delay)
        command = [
            sys.executable,
            "-m",
            "celery" if report_delay is None else slow_jobs.__name__,
            "-A",
            "server",
            "worker",
            "--beat",
            "--queues",
            "gpu,default",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--hostname",
            f"test-{uuid.uuid4().hex[:6]}@%h",
            "--schedule",
            str(Path(folder) / f"beat-{uuid.uuid4().hex[:6]}"),
        ]
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self):
        """SIGKILL the whole worker: parent, pool child and beat, with no chance to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self):
        return self.log_path.read_text(errors="replace")[-6000:]


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def workers(tmp_path, media_root):
    started = []

    def start(report_delay=None, **env):
        worker = Worker(tmp_path, media_root, report_delay, **env)
        started.append(worker)
        return worker

    with celery_app.connection_for_write() as broker:
        for queue in ("gpu", "default"):
            broker.default_channel.queue_purge(queue)
    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def researcher():
    user = UserFactory()
    project = ProjectFactory()
    MembershipFactory(project=project, user=user, role=Role.ANNOTATOR)
    project_network_register(
        project=project,
        actor=None,
        name="mobilenet-v2",
        arch="mobilenet_v2",
        bundled_weights=True,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(actor=user, name='tests').secret}")
    return client


def request_first_layer_job(client):
    return client.post(
        "/api/v1/jobs/",
        {"network": "mobilenet-v2", "kind": "first_layer_weights", "layer": "features.0"},
        format="json",
    )


def wait_for(condition, worker, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited early:\n{worker.output()}")
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s; worker log:\n{worker.output()}")


def job_status(job_id):
    return Job.objects.values_list("status", "progress").get(pk=job_id)


def running_past(job_id, progress):
    status, reached = job_status(job_id)
    return status == "running" and reached >= progress


def test_a_job_created_with_a_token_completes_in_a_worker_and_its_images_download(
    researcher, workers
):
    response = request_first_layer_job(researcher)
    assert response.status_code == 201
    job_id = response.json()["id"]
    worker = workers()

    wait_for(lambda: job_status(job_id)[0] == "succeeded", worker, timeout=120)

    job = researcher.get(f"/api/v1/jobs/{job_id}/").json()
    assert job["progress"] == 1.0
    assert job["attempts"] == 1
    assert job["device"] == "cpu"
    assert set(job["timings"]) >= {"load_seconds", "compute_seconds", "total_seconds"}
    artifacts = researcher.get(job["artifacts_url"]).json()
    assert len(artifacts) == ARTIFACTS_PER_JOB
    sprite = next(a for a in artifacts if a["kind"] == "layer_sprite")
    image = Image.open(
        io.BytesIO(b"".join(researcher.get(sprite["download_url"]).streaming_content))
    )
    assert image.size[0] > 0
    unit_image = next(
        a for a in artifacts if a["unit"] == "features.0:5" and a["kind"] == "unit_image"
    )
    tile = Image.open(
        io.BytesIO(b"".join(researcher.get(unit_image["download_url"]).streaming_content))
    )
    assert tile.size == (24, 24)


def test_repeating_a_finished_request_returns_the_same_job(researcher, workers):
    job_id = request_first_layer_job(researcher).json()["id"]
    worker = workers()
    wait_for(lambda: job_status(job_id)[0] == "succeeded", worker, timeout=120)

    again = request_first_layer_job(researcher)

    assert again.status_code == 200
    assert again.json()["id"] == job_id
    assert Job.objects.count() == 1


def test_health_lists_the_live_worker_with_its_queues_and_device_to_staff(workers):
    staff = APIClient()
    staff.force_authenticate(UserFactory(is_staff=True))
    worker = workers()

    wait_for(lambda: staff.get("/api/v1/health/").json()["workers"], worker, timeout=60)

    health = staff.get("/api/v1/health/").json()
    assert health["status"] == "ok"
    assert [(w["queues"], w["device"]) for w in health["workers"]] == [(["default", "gpu"], "cpu")]


def test_a_job_survives_its_worker_being_killed_mid_job(researcher, workers, media_root):
    job_id = request_first_layer_job(researcher).json()["id"]
    doomed = workers(report_delay=0.3)
    wait_for(lambda: running_past(job_id, 0.2), doomed, timeout=120)

    doomed.kill()

    status, progress = job_status(job_id)
    assert status == "running"
    assert 0.2 <= progress < 1.0
    replacement = workers()
    wait_for(lambda: job_status(job_id)[0] == "succeeded", replacement, timeout=120)
    job = Job.objects.get(pk=job_id)
    assert job.attempts == 2
    assert Artifact.objects.filter(job=job).count() == ARTIFACTS_PER_JOB
    files = [path for path in Path(media_root).rglob("*") if path.is_file()]
    artifact_files = [path for path in files if "artifacts" in path.parts]
    assert len(artifact_files) == ARTIFACTS_PER_JOB


def test_a_job_that_keeps_losing_its_worker_fails_after_the_attempts_limit(
    settings, researcher, workers
):
    settings.ATLAS_JOB_MAX_ATTEMPTS = 1
    job_id = request_first_layer_job(researcher).json()["id"]
    doomed = workers(report_delay=0.3)
    wait_for(lambda: running_past(job_id, 0.1), doomed, timeout=120)
    doomed.kill()

    replacement = workers()

    wait_for(lambda: job_status(job_id)[0] == "failed", replacement, timeout=60)
    job = Job.objects.get(pk=job_id)
    assert job.attempts == 1
    assert job.error_code == "attempts_exhausted"
    assert "attempt 1 of 1" in job.error
    assert Artifact.objects.filter(job=job).count() == 0


def request_layer_render(client, **params):
    return client.post(
        "/api/v1/jobs/",
        {
            "network": "mobilenet-v2",
            "kind": "feature_visualization",
            "layer": "features.1",
            "params": {"size": 32, "thumbnail": 16, **params},
        },
        format="json",
    )


def unit_images(job_id):
    return Artifact.objects.filter(job_id=job_id, kind="unit_image").count()


def test_a_layer_render_through_the_api_makes_unit_images_and_a_sprite(researcher, workers):
    job_id = request_layer_render(researcher, steps=4).json()["id"]
    worker = workers()

    wait_for(lambda: job_status(job_id)[0] == "succeeded", worker, timeout=180)

    assert unit_images(job_id) == 16
    sprite = researcher.get(
        "/api/v1/networks/mobilenet-v2/layers/features.1/sprite/",
        {"kind": "feature_visualization"},
    ).json()
    assert sprite["job"] == job_id
    assert len(sprite["index"]["units"]) == 16
    card = researcher.get("/api/v1/networks/mobilenet-v2/units/features.1:3/card/").json()
    assert [a["variant"] for a in card["renderings"][0]["artifacts"]] == ["positive", ""]


def test_cancelling_a_layer_render_stops_within_a_batch_and_keeps_finished_units(
    researcher, workers
):
    job_id = request_layer_render(researcher, steps=150, size=64).json()["id"]
    worker = workers(ATLAS_RENDER_BATCH_SIZE=4)
    wait_for(lambda: unit_images(job_id) >= 4, worker, timeout=180)

    cancelled = researcher.post(f"/api/v1/jobs/{job_id}/cancel/")
    finished_when_cancelled = unit_images(job_id)

    assert cancelled.status_code == 200
    wait_for(lambda: job_status(job_id)[0] == "cancelled", worker, timeout=120)
    kept = unit_images(job_id)
    assert kept % 4 == 0
    assert finished_when_cancelled <= kept <= finished_when_cancelled + 4
    assert kept < 16
    assert not Artifact.objects.filter(job_id=job_id, kind="layer_sprite").exists()


UNIVERSALITY_IMAGES = 24
UNIVERSALITY_BATCH = 2
# features.2 of MobileNetV2, conv2d0 of InceptionV1, and the matrix.
UNIVERSALITY_ARTIFACTS = 24 + 64 + 1


@pytest.fixture
def comparing_researcher(tmp_path):
    """A researcher whose project studies random MobileNetV2 and InceptionV1, and 24 photos."""
    user = UserFactory()
    project = ProjectFactory()
    MembershipFactory(project=project, user=user, role=Role.ANNOTATOR)
    for name, arch in (("mobilenet-v2", "mobilenet_v2"), ("inception-v1", "inception_v1")):
        project_network_register(
            project=project, actor=None, name=name, arch=arch, random_seed=0, input_size=64
        )
    folder = tmp_path / "photos"
    folder.mkdir()
    generator = np.random.default_rng(0)
    for number in range(UNIVERSALITY_IMAGES):
        pixels = generator.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{number:02d}.png")
    dataset_register(name="photos", path=folder, public=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(actor=user, name='tests').secret}")
    return client


def request_universality(client):
    response = client.post(
        "/api/v1/jobs/",
        {
            "network": "mobilenet-v2",
            "kind": "universality",
            "layer": "features.2",
            "params": {
                "other_network": "inception-v1",
                "other_layer": "conv2d0",
                "dataset": "photos",
                "batch_size": UNIVERSALITY_BATCH,
            },
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def progress_while_running(client, job_id, worker, timeout):
    """Every progress the API showed while the job ran, polled until it finished."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}/").json()
        if job["status"] == "running":
            seen.append(job["progress"])
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job, seen
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited early:\n{worker.output()}")
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s; worker log:\n{worker.output()}")


def test_a_universality_job_runs_in_a_worker_with_progress(comparing_researcher, workers):
    job_id = request_universality(comparing_researcher)
    worker = workers(report_delay=0.3)

    job, seen = progress_while_running(comparing_researcher, job_id, worker, timeout=240)

    assert job["status"] == "succeeded", job["error"]
    assert len({progress for progress in seen if 0 < progress < 1}) >= 3
    assert seen == sorted(seen)
    assert job["timings"]["images_seen"] == UNIVERSALITY_IMAGES
    assert Artifact.objects.filter(job_id=job_id).count() == UNIVERSALITY_ARTIFACTS
    card = comparing_researcher.get("/api/v1/networks/mobilenet-v2/units/features.2:0/card/").json()
    assert {entry["network"] for entry in card["resembles"]} == {"inception-v1"}


def test_cancelling_a_universality_job_stops_it_within_one_batch(comparing_researcher, workers):
    job_id = request_universality(comparing_researcher)
    worker = workers(report_delay=0.5)
    wait_for(
        lambda: job_status(job_id)[0] == "running" and job_status(job_id)[1] >= 0.2,
        worker,
        timeout=240,
    )

    cancelled = comparing_researcher.post(f"/api/v1/jobs/{job_id}/cancel/")
    progress_when_cancelled = job_status(job_id)[1]

    assert cancelled.status_code == 200
    wait_for(lambda: job_status(job_id)[0] == "cancelled", worker, timeout=60)
    _, final_progress = job_status(job_id)
    one_batch = UNIVERSALITY_BATCH / UNIVERSALITY_IMAGES
    assert final_progress - progress_when_cancelled <= one_batch + 1e-9
    assert final_progress < 1
    assert not Artifact.objects.filter(job_id=job_id).exists()


TUNING_STIMULI = 24 + 16
TUNING_BATCH = 4


def request_tuning(client):
    response = client.post(
        "/api/v1/jobs/",
        {
            "network": "mobilenet-v2",
            "kind": "tuning",
            "layer": "features.2",
            "units": [0, 1],
            "params": {"families": "edge,dot", "batch_size": TUNING_BATCH},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_a_tuning_job_runs_in_a_worker_with_progress(researcher, workers):
    job_id = request_tuning(researcher)
    worker = workers(report_delay=0.2)

    job, seen = progress_while_running(researcher, job_id, worker, timeout=240)

    assert job["status"] == "succeeded", job["error"]
    assert len({progress for progress in seen if 0 < progress < 1}) >= 3
    assert seen == sorted(seen)
    assert job["timings"]["stimuli"] == TUNING_STIMULI
    # Per unit a JSON, a PNG and an SVG; per layer a summary and the response arrays.
    assert Artifact.objects.filter(job_id=job_id).count() == 2 * 3 + 2


def test_cancelling_a_tuning_job_stops_it_within_one_batch(researcher, workers):
    job_id = request_tuning(researcher)
    worker = workers(report_delay=0.5)
    wait_for(lambda: running_past(job_id, 0.2), worker, timeout=240)

    cancelled = researcher.post(f"/api/v1/jobs/{job_id}/cancel/")
    progress_when_cancelled = job_status(job_id)[1]

    assert cancelled.status_code == 200
    wait_for(lambda: job_status(job_id)[0] == "cancelled", worker, timeout=60)
    _, final_progress = job_status(job_id)
    assert final_progress - progress_when_cancelled <= TUNING_BATCH / (TUNING_STIMULI + 2) + 1e-9
    assert not Artifact.objects.filter(job_id=job_id).exists()
