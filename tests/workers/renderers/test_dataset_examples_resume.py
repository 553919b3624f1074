"""A dataset-examples job whose worker is lost mid-pass goes on from its last checkpoint when
requeued, and writes what an uninterrupted job writes (issue 21, resumable passes)."""

from datetime import timedelta

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from workers.engine import datasets as engine_datasets
from workers.models import Artifact, Job
from workers.services import jobs as job_services
from workers.services.datasets import dataset_register
from workers.services.job_run import job_run
from workers.services.jobs import job_request, jobs_sweep

pytestmark = pytest.mark.django_db

IMAGES = 12
BATCH = 2
EVERY = 4
LAYERS = "features.0,features.1"


class _WorkerLost(BaseException):
    """Stands in for a SIGKILL: nothing in the job's code catches it."""


@pytest.fixture(autouse=True)
def _settings(monkeypatch, settings):
    settings.ATLAS_DATASET_BATCH_SIZE = BATCH
    settings.ATLAS_CHECKPOINT_IMAGES = EVERY
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


@pytest.fixture
def network(tmp_path):
    from workers.services.networks import network_register

    folder = tmp_path / "photos"
    folder.mkdir()
    generator = np.random.default_rng(0)
    for number in range(IMAGES):
        pixels = generator.integers(0, 256, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{number:02d}.png")
    (folder / "photo05b.jpg").write_bytes(b"not a jpeg")
    dataset_register(name="photos", path=folder)
    return network_register(name="tiny", arch="mobilenet_v2", random_seed=0, input_size=32)


def request(network):
    job, _ = job_request(
        network=network,
        kind="dataset_examples",
        layer_name=None,
        params={"dataset": "photos", "k": 2, "crop_size": 16, "layers": LAYERS},
        actor=None,
    )
    return job


def contents(job):
    return {
        (
            artifact.layer.name,
            artifact.unit_id and artifact.unit.index,
            artifact.kind,
            artifact.variant,
        ): artifact.file.read()
        for artifact in Artifact.objects.filter(job=job).select_related("layer", "unit")
    }


def lose_worker_after(monkeypatch, batches):
    """The next pass's worker dies while decoding batch number ``batches`` + 1."""
    real = engine_datasets.batches
    seen = []

    def dying(*args, **kwargs):
        for batch in real(*args, **kwargs):
            if len(seen) == batches:
                raise _WorkerLost
            seen.append(batch[0])
            yield batch

    monkeypatch.setattr(engine_datasets, "batches", dying)
    return seen


def requeue(job):
    """The lease sweep finds the lost worker's job and puts it back in the queue."""
    assert jobs_sweep(now=timezone.now() + timedelta(days=1))["requeued"] == [job.pk]


@pytest.fixture
def uninterrupted(network):
    job = request(network)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    expected = contents(job)
    Job.objects.all().delete()
    return job, expected


def test_a_requeued_job_resumes_from_its_last_checkpoint(monkeypatch, network, uninterrupted):
    _, expected = uninterrupted
    job = request(network)
    with monkeypatch.context() as patch:
        lose_worker_after(patch, 5)
        with pytest.raises(_WorkerLost):
            job_run(job_id=job.pk)
    requeue(job)
    after_restart = lose_worker_after(monkeypatch, 1000)

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.attempts == 2
    # Batches of 2 over 13 files, the 7th unreadable: 2, 4, 6, 7, 9 readable images when the
    # worker dies decoding the 6th; the checkpoints after 4 and 9.
    assert job.timings["resumed_at_image"] == 9
    assert [int(index) for batch in after_restart for index in batch] == [10, 11, 12]
    assert job.timings["images_unreadable"] == 1
    assert contents(job) == expected


def test_a_finished_job_leaves_no_checkpoint(network, uninterrupted):
    job, _ = uninterrupted

    folder = f"checkpoints/dataset_examples/{job.request_hash}"
    assert default_storage.listdir(folder) == ([], [])


def test_a_job_interrupted_before_its_first_checkpoint_starts_over(
    monkeypatch, network, uninterrupted
):
    _, expected = uninterrupted
    job = request(network)
    with monkeypatch.context() as patch:
        lose_worker_after(patch, 1)
        with pytest.raises(_WorkerLost):
            job_run(job_id=job.pk)
    requeue(job)

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.timings["resumed_at_image"] == 0
    assert contents(job) == expected
