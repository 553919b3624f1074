import json

import pytest
from PIL import Image

from workers.models import Artifact, Job
from workers.services import jobs as job_services
from workers.services.job_run import job_run
from workers.services.jobs import job_cancel, job_request
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db

FAST = {"steps": 3, "size": 32, "thumbnail": 16}
UNITS = 16


@pytest.fixture(autouse=True)
def _small_batches(settings, monkeypatch):
    settings.ATLAS_RENDER_BATCH_SIZE = 4
    settings.ATLAS_PROGRESS_MIN_INTERVAL_SECONDS = 0
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


@pytest.fixture
def network():
    return network_register(name="tiny", arch="mobilenet_v2", random_seed=0, input_size=64)


def render(network, **params):
    job, _ = job_request(
        network=network,
        kind="feature_visualization",
        layer_name="features.1",
        params={**FAST, **params},
        actor=None,
    )
    return job


def test_a_layer_render_writes_an_image_and_a_summary_per_unit_and_a_sprite(network):
    job = render(network)

    assert job_run(job_id=job.pk) == "succeeded"

    images = Artifact.objects.filter(job=job, kind="unit_image")
    assert sorted(images.values_list("unit__index", flat=True)) == list(range(UNITS))
    assert set(images.values_list("variant", flat=True)) == {"positive"}
    assert Image.open(images.first().file).size == (32, 32)
    index = json.loads(Artifact.objects.get(job=job, kind="layer_index").file.read())
    assert [unit["index"] for unit in index["units"]] == list(range(UNITS))
    assert index["tile_width"] == 16


def test_each_unit_summary_holds_its_objective_curve_and_final_activation(network):
    job = render(network, steps=8)
    job_run(job_id=job.pk)

    summary = json.loads(Artifact.objects.get(job=job, unit__index=5, kind="unit_json").file.read())

    positive = summary["variants"]["positive"]
    assert summary["unit"] == "features.1:5"
    assert [step for step, _ in positive["curve"]][-1] == 7
    assert set(positive["final_activation"]) == {"mean", "max"}


def test_a_render_records_that_a_capped_layer_was_read_at_its_pre_activation(network):
    job = job_request(
        network=network,
        kind="feature_visualization",
        layer_name="features.1.depthwise",
        params={**FAST, "steps": 2},
        actor=None,
    )[0]
    job_run(job_id=job.pk)

    summary = json.loads(Artifact.objects.get(job=job, unit__index=0, kind="unit_json").file.read())
    image = Artifact.objects.get(job=job, unit__index=0, kind="unit_image")
    assert summary["objective_at"] == "pre_activation"
    assert image.meta["objective_at"] == "pre_activation"


def test_a_render_of_an_uncapped_layer_records_the_activation(network):
    job = render(network, steps=2)
    job_run(job_id=job.pk)

    summary = json.loads(Artifact.objects.get(job=job, unit__index=0, kind="unit_json").file.read())
    assert summary["objective_at"] == "activation"


def test_diversity_renders_several_images_per_unit(network):
    job = render(network, objective="diversity", diversity=3)
    job_run(job_id=job.pk)

    variants = Artifact.objects.filter(job=job, unit__index=0, kind="unit_image").values_list(
        "variant", flat=True
    )
    assert sorted(variants) == ["diversity-0", "diversity-1", "diversity-2"]


def test_the_diversity_count_is_ignored_for_other_objectives(network):
    plain = render(network)
    same = render(network, diversity=6)

    assert same.pk == plain.pk
    assert plain.params["diversity"] == 0


def test_cancelling_mid_job_stops_within_one_batch_and_keeps_finished_units(network, monkeypatch):
    job = render(network)
    real_add = Artifact.objects.bulk_create
    batches = []

    def record_then_cancel(rows, *args, **kwargs):
        batches.append(len(rows))
        if len(batches) == 1:
            job_cancel(job=Job.objects.get(pk=job.pk), actor=None)
        return real_add(rows, *args, **kwargs)

    monkeypatch.setattr(Artifact.objects, "bulk_create", record_then_cancel)

    assert job_run(job_id=job.pk) == "cancelled"

    kept = Artifact.objects.filter(job=job, kind="unit_image").values_list("unit__index", flat=True)
    assert sorted(kept) == [0, 1, 2, 3]
    assert len(batches) == 1
    assert not Artifact.objects.filter(job=job, kind="layer_sprite").exists()


def test_a_rerun_after_an_interruption_renders_only_the_missing_units(network, monkeypatch):
    job = render(network)
    real_add = Artifact.objects.bulk_create
    calls = []

    def crash_on_second_batch(rows, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("worker lost")
        return real_add(rows, *args, **kwargs)

    monkeypatch.setattr(Artifact.objects, "bulk_create", crash_on_second_batch)
    with pytest.raises(Exception, match="worker lost"):
        job_run(job_id=job.pk)
    monkeypatch.setattr(Artifact.objects, "bulk_create", real_add)
    Job.objects.filter(pk=job.pk).update(status="queued")

    assert job_run(job_id=job.pk) == "succeeded"

    job.refresh_from_db()
    assert job.timings["units_resumed"] == 4
    assert Artifact.objects.filter(job=job, kind="unit_image").count() == UNITS
    index = json.loads(Artifact.objects.get(job=job, kind="layer_index").file.read())
    assert len(index["units"]) == UNITS
