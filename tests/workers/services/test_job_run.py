import json
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import OperationalError
from PIL import Image

from workers.engine.errors import UnsupportedLayer
from workers.models import Artifact, Job
from workers.renderers import common, first_layer
from workers.services import job_run as job_run_module
from workers.services import jobs as job_services
from workers.services.job_run import TransientJobError, job_run, running_job_ids
from workers.services.jobs import job_cancel, job_request
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db

UNITS = 32


@pytest.fixture(autouse=True)
def sent(monkeypatch):
    """Job ids handed to the broker (after commit), with the delay each was sent with."""
    sends = []
    monkeypatch.setattr(
        job_services,
        "_enqueue_after_commit",
        lambda job_id, countdown=None: sends.append((job_id, countdown)),
    )
    return sends


@pytest.fixture
def mobilenet():
    return network_register(name="mobilenet-v2", arch="mobilenet_v2", bundled_weights=True)


def request(network, **fields):
    job, _ = job_request(
        network=network, kind="first_layer_weights", layer_name="features.0", actor=None, **fields
    )
    return job


def stored_files():
    return sorted(p for p in Path(default_storage.location).rglob("*") if p.is_file())


def test_a_run_writes_one_image_and_one_summary_per_unit_and_a_sprite_sheet(mobilenet):
    job = request(mobilenet)

    assert job_run(job_id=job.pk) == "succeeded"

    job.refresh_from_db()
    kinds = list(Artifact.objects.filter(job=job).values_list("kind", flat=True))
    assert (job.status, job.progress, job.attempts) == ("succeeded", 1.0, 1)
    assert kinds.count("unit_image") == kinds.count("unit_json") == UNITS
    assert kinds.count("layer_sprite") == kinds.count("layer_index") == 1
    assert set(job.timings) == {"load_seconds", "compute_seconds", "write_seconds", "total_seconds"}


def test_the_sprite_index_places_every_unit(mobilenet):
    job = request(mobilenet)
    job_run(job_id=job.pk)

    index = json.loads(Artifact.objects.get(job=job, kind="layer_index").file.read())
    sprite = Image.open(Artifact.objects.get(job=job, kind="layer_sprite").file)

    assert [unit["index"] for unit in index["units"]] == list(range(UNITS))
    assert sprite.size == (index["width"], index["height"])
    assert (index["tile_width"], index["tile_height"]) == (24, 24)


def test_artifacts_record_their_provenance(mobilenet):
    job = request(mobilenet, params={"pixels_per_weight": 4})
    job_run(job_id=job.pk)

    artifact = Artifact.objects.get(job=job, unit__index=7, kind="unit_image")
    summary = json.loads(Artifact.objects.get(job=job, unit__index=7, kind="unit_json").file.read())

    assert artifact.params == {"pixels_per_weight": 4, "normalize": "unit"}
    assert artifact.code_version.startswith("engine-")
    assert Image.open(artifact.file).size == (12, 12)
    assert summary["unit"] == "features.0:7"


def test_a_job_for_some_units_renders_only_those(mobilenet):
    job = request(mobilenet, unit_indices=[3, 30])
    job_run(job_id=job.pk)

    units = Artifact.objects.filter(job=job, kind="unit_image").values_list(
        "unit__index", flat=True
    )
    assert sorted(units) == [3, 30]


def test_running_a_job_again_after_a_lost_worker_replaces_its_artifacts(mobilenet):
    job = request(mobilenet)
    job_run(job_id=job.pk)
    first_files = stored_files()
    Job.objects.filter(pk=job.pk).update(status="queued")

    assert job_run(job_id=job.pk) == "succeeded"

    job.refresh_from_db()
    assert job.attempts == 2
    assert Artifact.objects.filter(job=job).count() == 2 * UNITS + 2
    assert stored_files() == first_files


def test_a_duplicate_delivery_of_a_finished_job_does_nothing(mobilenet):
    job = request(mobilenet)
    job_run(job_id=job.pk)
    before = list(Artifact.objects.values_list("pk", flat=True))

    assert job_run(job_id=job.pk) is None

    job.refresh_from_db()
    assert job.attempts == 1
    assert list(Artifact.objects.values_list("pk", flat=True)) == before


def test_an_engine_error_fails_the_job_with_its_code_and_keeps_no_files(mobilenet, monkeypatch):
    def refuse(*args, **kwargs):
        raise UnsupportedLayer("features.0 is not computed from the image")

    monkeypatch.setattr(first_layer, "first_layer_weight_images", refuse)
    job = request(mobilenet)

    assert job_run(job_id=job.pk) == "failed"

    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "unsupported_layer")
    assert "not computed from the image" in job.error
    assert Artifact.objects.count() == 0


def test_an_unexpected_error_fails_the_job_and_removes_written_files(mobilenet, monkeypatch):
    def broken_sheet(*args, **kwargs):
        raise ZeroDivisionError("bad tile size")

    monkeypatch.setattr(common, "sprite_sheet", broken_sheet)
    job = request(mobilenet)

    assert job_run(job_id=job.pk) == "failed"

    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "internal_error")
    assert job.error == "ZeroDivisionError: bad tile size"
    assert stored_files() == []
    assert Artifact.objects.count() == 0


def test_a_job_cancelled_while_running_stops_and_records_nothing(mobilenet, monkeypatch, settings):
    settings.ATLAS_PROGRESS_MIN_INTERVAL_SECONDS = 0
    job = request(mobilenet)
    real_encode = first_layer.encode_png
    calls = []

    def encode_then_cancel(rgb):
        calls.append(1)
        if len(calls) == 3:
            job_cancel(job=Job.objects.get(pk=job.pk), actor=None)
        return real_encode(rgb)

    monkeypatch.setattr(first_layer, "encode_png", encode_then_cancel)

    assert job_run(job_id=job.pk) == "cancelled"

    job.refresh_from_db()
    assert job.status == "cancelled"
    assert len(calls) == 3
    assert Artifact.objects.count() == 0
    assert stored_files() == []


def failing_first(monkeypatch, times, error=None):
    """The first ``times`` runs of first-layer jobs raise ``error`` (a dropped database
    connection by default); later ones work."""
    error = error or OperationalError("connection reset")
    real = first_layer.first_layer_weight_images
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(first_layer, "first_layer_weight_images", flaky)


def test_a_transient_database_error_gives_the_job_back_without_spending_an_attempt(
    mobilenet, monkeypatch, sent, settings
):
    settings.ATLAS_JOB_TRANSIENT_BACKOFF_SECONDS = 2.0
    failing_first(monkeypatch, 1)
    job = request(mobilenet)

    with pytest.raises(TransientJobError):
        job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.transient_retries, job.worker) == ("queued", 0, 1, "")
    assert job.progress_message == (
        "retried after a transient database error: OperationalError: connection reset"
    )
    assert sent == [(job.pk, None), (job.pk, 2.0)]


def test_a_job_hit_by_three_transient_errors_succeeds_on_its_first_attempt(mobilenet, monkeypatch):
    failing_first(monkeypatch, 3)
    job = request(mobilenet)
    for _ in range(3):
        with pytest.raises(TransientJobError):
            job_run(job_id=job.pk)

    assert job_run(job_id=job.pk) == "succeeded"

    job.refresh_from_db()
    assert (job.status, job.attempts, job.transient_retries) == ("succeeded", 1, 3)
    assert job.progress_message == "done, retried 3x after transient errors"
    assert Artifact.objects.filter(job=job).count() == 2 * UNITS + 2


def test_the_backoff_between_transient_retries_doubles_up_to_a_minute(
    mobilenet, monkeypatch, sent, settings
):
    settings.ATLAS_JOB_TRANSIENT_BACKOFF_SECONDS = 10.0
    failing_first(monkeypatch, 4)
    job = request(mobilenet)

    for _ in range(4):
        with pytest.raises(TransientJobError):
            job_run(job_id=job.pk)

    assert [countdown for _, countdown in sent] == [None, 10.0, 20.0, 40.0, 60.0]


def test_a_job_out_of_transient_retries_fails_and_says_why(mobilenet, monkeypatch, sent, settings):
    settings.ATLAS_JOB_MAX_TRANSIENT_RETRIES = 2
    failing_first(monkeypatch, 3)
    job = request(mobilenet)
    for _ in range(2):
        with pytest.raises(TransientJobError):
            job_run(job_id=job.pk)

    assert job_run(job_id=job.pk) == "failed"

    job.refresh_from_db()
    assert (job.status, job.attempts, job.transient_retries) == ("failed", 1, 2)
    assert job.error_code == "transient_errors"
    assert job.error == (
        "Gave up after 2 retries after transient errors; the last: a transient database "
        "error: OperationalError: connection reset"
    )
    assert len(sent) == 3
    assert stored_files() == []


def test_a_dropped_network_connection_is_retried_as_a_transient_network_error(
    mobilenet, monkeypatch
):
    failing_first(monkeypatch, 1, error=ConnectionResetError("peer reset"))
    job = request(mobilenet)

    with pytest.raises(TransientJobError):
        job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.progress_message == (
        "retried after a transient network error: ConnectionResetError: peer reset"
    )


def test_the_heartbeat_sees_a_job_as_running_only_while_it_runs(mobilenet, monkeypatch):
    real = first_layer.first_layer_weight_images
    seen = []

    def remember(*args, **kwargs):
        seen.append(running_job_ids())
        return real(*args, **kwargs)

    monkeypatch.setattr(first_layer, "first_layer_weight_images", remember)
    job = request(mobilenet)

    job_run(job_id=job.pk)

    assert seen == [[job.pk]]
    assert running_job_ids() == []


def test_a_job_that_cannot_be_given_back_is_left_for_the_lease_sweep(mobilenet, monkeypatch):
    def unreachable(**kwargs):
        raise OperationalError("could not connect to server")

    failing_first(monkeypatch, 1)
    monkeypatch.setattr(job_run_module, "job_release", unreachable)
    monkeypatch.setattr(job_run_module.time, "sleep", lambda seconds: None)
    job = request(mobilenet)

    with pytest.raises(TransientJobError):
        job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 1)
    assert running_job_ids() == []
