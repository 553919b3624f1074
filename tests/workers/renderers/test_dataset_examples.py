import json

import numpy as np
import pytest
from PIL import Image

from server.errors import ValidationFailed
from workers.models import Artifact, Dataset
from workers.services import jobs as job_services
from workers.services.datasets import dataset_register
from workers.services.job_run import job_run
from workers.services.jobs import job_request
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db

IMAGES = 6
UNITS = 16


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch, settings):
    settings.ATLAS_DATASET_BATCH_SIZE = 4
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    generator = np.random.default_rng(0)
    for number in range(IMAGES):
        pixels = generator.integers(0, 256, (80, 96, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{number}.png")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    return folder


@pytest.fixture
def network():
    return network_register(name="tiny", arch="mobilenet_v2", random_seed=0, input_size=64)


def run_examples(network, **params):
    job, _ = job_request(
        network=network,
        kind="dataset_examples",
        layer_name="features.1",
        params={"dataset": "photos", "k": 3, "crop_size": 16, **params},
        actor=None,
    )
    job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_a_dataset_is_registered_with_its_image_count(photos):
    dataset = dataset_register(name="photos", path=photos)

    assert (dataset.path, dataset.image_count) == (str(photos), IMAGES + 1)


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(ValidationFailed) as error:
        dataset_register(name="photos", path=tmp_path / "absent")

    assert error.value.code == "dataset_missing"
    assert Dataset.objects.count() == 0


def test_an_unknown_dataset_is_refused_at_request_time(network):
    with pytest.raises(ValidationFailed) as error:
        job_request(
            network=network,
            kind="dataset_examples",
            layer_name="features.1",
            params={"dataset": "nowhere"},
            actor=None,
        )

    assert list(error.value.fields) == ["params.dataset"]


def test_each_unit_gets_top_and_bottom_strips_and_a_summary(photos, network):
    dataset_register(name="photos", path=photos)

    job = run_examples(network)

    assert job.status == "succeeded"
    strips = Artifact.objects.filter(job=job, kind="unit_image")
    assert strips.count() == 2 * UNITS
    top = Image.open(strips.get(unit__index=2, variant="top").file)
    assert top.size == (3 * 16 + 2 * 2, 16)
    summary = json.loads(
        Artifact.objects.get(job=job, unit__index=2, kind="unit_json", variant="").file.read()
    )
    assert summary["images_seen"] == IMAGES
    assert len(summary["top"]) == len(summary["bottom"]) == 3
    assert summary["top"][0]["value"] >= summary["top"][1]["value"] >= summary["top"][2]["value"]
    assert summary["top"][0]["image"].startswith("photo")
    assert job.timings["images_unreadable"] == 1


def test_the_layer_sprite_shows_each_units_best_crop(photos, network):
    dataset_register(name="photos", path=photos)

    job = run_examples(network)

    index = json.loads(Artifact.objects.get(job=job, kind="layer_index").file.read())
    assert [unit["index"] for unit in index["units"]] == list(range(UNITS))
    assert index["tile_width"] == 16


def _artifact_json(job, unit, variant=""):
    artifact = Artifact.objects.get(job=job, unit__index=unit, kind="unit_json", variant=variant)
    return json.loads(artifact.file.read()), artifact.meta


def test_each_unit_records_on_how_many_images_it_fired(photos, network):
    dataset_register(name="photos", path=photos)

    job = run_examples(network)

    for unit in range(UNITS):
        summary, meta = _artifact_json(job, unit)
        fired = summary["fired_on"]
        assert meta == {"fired_on": fired}
        assert (fired["dataset"], fired["of"]) == ("photos", IMAGES)
        assert fired["never_fired"] == (fired["images"] == 0) == (summary["top"][0]["value"] <= 0)
    assert job.timings["never_fired"] == sum(
        _artifact_json(job, unit)[0]["fired_on"]["never_fired"] for unit in range(UNITS)
    )


def test_the_sprite_index_says_on_how_many_images_each_unit_fired(photos, network):
    dataset_register(name="photos", path=photos)

    job = run_examples(network)

    index = json.loads(Artifact.objects.get(job=job, kind="layer_index").file.read())
    assert index["fired_on"] == {"dataset": "photos", "of": IMAGES}
    assert [place["fired"] for place in index["units"]] == [
        _artifact_json(job, unit)[0]["fired_on"]["images"] for unit in range(UNITS)
    ]


def test_each_unit_gets_its_activation_distribution_with_the_shown_examples(photos, network):
    dataset_register(name="photos", path=photos)

    job = run_examples(network)

    summary, _ = _artifact_json(job, 5)
    distribution, meta = _artifact_json(job, 5, "distribution")
    assert meta == distribution
    assert (distribution["images"], distribution["bins"], sum(distribution["counts"])) == (
        IMAGES,
        32,
        IMAGES,
    )
    assert distribution["high"] == pytest.approx(summary["top"][0]["value"])
    assert distribution["top"] == [entry["value"] for entry in summary["top"]]
    assert distribution["bottom"] == [entry["value"] for entry in summary["bottom"]]
    assert distribution["classes"] is None


def test_a_dataset_in_class_subfolders_gives_the_classes_with_the_highest_mean(tmp_path, network):
    folder = tmp_path / "classes"
    generator = np.random.default_rng(1)
    for label, count in (("bright", 2), ("dark", 3)):
        (folder / label).mkdir(parents=True)
        for number in range(count):
            pixels = generator.integers(0, 60, (64, 64, 3), dtype=np.uint8)
            if label == "bright":
                pixels += 190
            Image.fromarray(pixels).save(folder / label / f"{number}.png")
    dataset_register(name="classes", path=folder)

    job = run_examples(network, dataset="classes")

    summary, _ = _artifact_json(job, 0)
    classes = _artifact_json(job, 0, "distribution")[0]["classes"]
    assert sorted((entry["name"], entry["images"]) for entry in classes) == [
        ("bright", 2),
        ("dark", 3),
    ]
    assert classes[0]["mean"] >= classes[1]["mean"]


def test_a_small_receptive_field_is_cropped_with_context_and_outlined(photos, network):
    dataset_register(name="photos", path=photos)

    job = run_examples(network, crop_size=64)

    summary, _ = _artifact_json(job, 3)
    example = summary["top"][0]
    top, left, bottom, right = example["crop"]
    assert (bottom - top, right - left) == (32, 32)
    field = example["box"]
    assert top <= field[0] < field[2] <= bottom and left <= field[1] < field[3] <= right
    strip = np.asarray(Image.open(Artifact.objects.get(job=job, unit__index=3, variant="top").file))
    field_top, field_left, field_bottom, _ = example["field_in_crop"]
    # The line runs just outside the field, down its left side.
    line = strip[field_top:field_bottom, field_left - 1]
    assert (line == (255, 0, 255)).all()


def test_the_strongest_examples_come_first_and_the_weakest_last(photos, network):
    dataset_register(name="photos", path=photos)

    job = run_examples(network)

    summary, _ = _artifact_json(job, 7)
    assert list(summary).index("top") < list(summary).index("bottom")
    top = [entry["value"] for entry in summary["top"]]
    bottom = [entry["value"] for entry in summary["bottom"]]
    assert top == sorted(top, reverse=True) and bottom == sorted(bottom)
