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
    summary = json.loads(Artifact.objects.get(job=job, unit__index=2, kind="unit_json").file.read())
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
