"""A real worker SIGKILLed halfway through a dataset pass: the job, requeued by the lease
sweep, goes on from its last checkpoint in a new worker and writes what an uninterrupted run
writes, byte for byte (issue 21, acceptance 2, on a small dataset)."""

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.workers.test_worker_process import (
    job_status,
    wait_for,
    workers,  # noqa: F401  (the fixture)
)
from workers.models import Artifact, Job
from workers.services.datasets import dataset_register
from workers.services.jobs import job_request
from workers.services.networks import network_register

pytestmark = [pytest.mark.worker_process, pytest.mark.django_db(transaction=True)]

IMAGES = 240
BATCH = 8
EVERY = 48
PASS_SETTINGS = {
    "ATLAS_DATASET_BATCH_SIZE": BATCH,
    "ATLAS_CHECKPOINT_IMAGES": EVERY,
    "ATLAS_DECODE_WORKERS": 1,
}
PARAMS = {"dataset": "photos", "k": 2, "crop_size": 16, "layers": "features.0,features.1"}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def request_pass(tmp_path, settings):
    for name, value in PASS_SETTINGS.items():
        setattr(settings, name, value)
    folder = tmp_path / "photos"
    folder.mkdir()
    generator = np.random.default_rng(0)
    for number in range(IMAGES):
        pixels = generator.integers(0, 256, (24, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{number:03d}.png")
    dataset_register(name="photos", path=folder)
    network = network_register(name="tiny", arch="mobilenet_v2", random_seed=0, input_size=32)

    def request():
        job, _ = job_request(
            network=network, kind="dataset_examples", layer_name=None, params=PARAMS, actor=None
        )
        return job

    return request


def saved_checkpoints(media_root, job):
    """The image counts of the job's complete checkpoints in the storage, newest first."""
    folder = Path(media_root) / "checkpoints" / "dataset_examples" / job.request_hash
    names = [path.name for path in folder.glob("state-*.pt")] if folder.is_dir() else []
    return sorted((int(re.findall(r"\d+", name)[0]) for name in names), reverse=True)


def contents(job):
    return {
        (
            artifact.layer.name,
            artifact.unit.index if artifact.unit else None,
            artifact.kind,
            artifact.variant,
        ): artifact.file.read()
        for artifact in Artifact.objects.filter(job=job).select_related("layer", "unit")
    }


def test_a_killed_pass_resumes_from_its_checkpoint_and_writes_the_same_artifacts(
    request_pass,
    workers,  # noqa: F811  (the fixture imported above)
    media_root,
):
    job = request_pass()
    doomed = workers(report_delay=0.25, **PASS_SETTINGS)
    wait_for(lambda: saved_checkpoints(media_root, job), doomed, timeout=300)

    doomed.kill()

    resume_at = saved_checkpoints(media_root, job)[0]
    assert job_status(job.pk)[0] == "running"
    assert EVERY <= resume_at < IMAGES
    replacement = workers(**PASS_SETTINGS)
    wait_for(lambda: job_status(job.pk)[0] == "succeeded", replacement, timeout=300)
    job.refresh_from_db()
    assert job.attempts == 2
    assert job.timings["resumed_at_image"] == resume_at
    assert job.timings["images_seen"] == IMAGES
    resumed = contents(job)
    replacement.stop()
    Job.objects.all().delete()
    uninterrupted = request_pass()
    # In a fresh worker as well, not in this process: after the rest of the suite had run in
    # it, a pass run here once differed from the workers' by one float32 ulp in one unit's
    # mean (the cause, some state of this long-lived process, was not found).
    fresh = workers(**PASS_SETTINGS)
    wait_for(lambda: job_status(uninterrupted.pk)[0] == "succeeded", fresh, timeout=300)
    fresh.stop()
    uninterrupted.refresh_from_db()
    assert uninterrupted.status == "succeeded"
    assert uninterrupted.timings["resumed_at_image"] == 0
    assert contents(uninterrupted) == resumed
