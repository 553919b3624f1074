"""A dataset-examples job spools each image's maxima to a temporary folder during its pass and
removes it however the job ends: finished, failed or cancelled (issue 21, memory bounded by
batch size and k)."""

import tempfile

import numpy as np
import pytest
from PIL import Image

from workers.engine import datasets as engine_datasets
from workers.models import Job
from workers.services import jobs as job_services
from workers.services.datasets import dataset_register
from workers.services.job_run import job_run
from workers.services.jobs import job_cancel, job_request

pytestmark = pytest.mark.django_db

IMAGES = 8
BATCH = 2


@pytest.fixture(autouse=True)
def _settings(monkeypatch, settings):
    settings.ATLAS_DATASET_BATCH_SIZE = BATCH
    settings.ATLAS_PROGRESS_MIN_INTERVAL_SECONDS = 0
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


@pytest.fixture
def temporary(monkeypatch, tmp_path):
    """The system's temporary folder, for this test alone."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def job(tmp_path):
    from workers.services.networks import network_register

    folder = tmp_path / "photos"
    folder.mkdir()
    generator = np.random.default_rng(0)
    for number in range(IMAGES):
        pixels = generator.integers(0, 256, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{number:02d}.png")
    dataset_register(name="photos", path=folder)
    network = network_register(name="tiny", arch="mobilenet_v2", random_seed=0, input_size=32)
    job, _ = job_request(
        network=network,
        kind="dataset_examples",
        layer_name=None,
        params={"dataset": "photos", "k": 2, "crop_size": 16, "layers": "features.0,features.1"},
        actor=None,
    )
    return job


def spools(folder):
    return sorted(path.name for path in folder.glob("atlas-maxima-*"))


def watch_batches(monkeypatch, temporary, after_second=None):
    """The spool folders seen while each batch is decoded; ``after_second`` runs once the
    second batch has been handed to the pass."""
    real = engine_datasets.batches
    seen = []

    def watched(*args, **kwargs):
        for number, batch in enumerate(real(*args, **kwargs)):
            seen.append(spools(temporary))
            yield batch
            if number == 1 and after_second is not None:
                after_second()

    monkeypatch.setattr(engine_datasets, "batches", watched)
    return seen


def test_a_finished_job_removes_the_spool_its_pass_wrote(monkeypatch, temporary, job):
    during = watch_batches(monkeypatch, temporary)

    assert job_run(job_id=job.pk) == "succeeded"

    assert len(during) == IMAGES // BATCH
    assert len(set(map(tuple, during))) == 1 and len(during[0]) == 1
    assert spools(temporary) == []


def test_a_cancelled_job_removes_its_spool(monkeypatch, temporary, job):
    during = watch_batches(
        monkeypatch,
        temporary,
        after_second=lambda: job_cancel(job=Job.objects.get(pk=job.pk), actor=None),
    )

    assert job_run(job_id=job.pk) == "cancelled"

    # Asked while the third batch is fetched, seen at the report after it.
    assert len(during) == 3 and len(during[0]) == 1
    assert spools(temporary) == []


def test_a_failed_job_removes_its_spool(monkeypatch, temporary, job):
    def decoding_fails():
        raise RuntimeError("the disk went away")

    during = watch_batches(monkeypatch, temporary, after_second=decoding_fails)

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "RuntimeError: the disk went away")
    assert len(during) == 2 and len(during[0]) == 1
    assert spools(temporary) == []
