"""A feature-visualization job's progress moves inside a batch, step by step, not only when a
batch ends."""

import pytest

from workers.services import jobs as job_services
from workers.services.job_run import job_run
from workers.services.jobs import job_request
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_batch(settings, monkeypatch):
    settings.ATLAS_RENDER_BATCH_SIZE = 8
    settings.ATLAS_PROGRESS_MIN_INTERVAL_SECONDS = 0
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


def test_a_single_batch_job_reports_each_step(settings):
    network = network_register(name="tiny", arch="mobilenet_v2", random_seed=0, input_size=64)
    job, _ = job_request(
        network=network,
        kind="feature_visualization",
        layer_name="features.1",
        unit_indices=[0, 1, 2, 3],
        params={"steps": 4, "size": 32, "thumbnail": 16},
        actor=None,
    )
    reports = []

    job_run(
        job_id=job.pk,
        on_progress=lambda done, total, message: reports.append((done / total, message)),
    )

    assert reports[0] == (0.0, "network loaded")
    assert reports[1:] == [
        (0.25, "0 of 4 units · step 1 of 4 on 4"),
        (0.5, "0 of 4 units · step 2 of 4 on 4"),
        (0.75, "0 of 4 units · step 3 of 4 on 4"),
        (1.0, "0 of 4 units · step 4 of 4 on 4"),
        (1.0, "4 of 4 units"),
    ]
