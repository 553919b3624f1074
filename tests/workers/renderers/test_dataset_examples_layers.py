"""A dataset-examples job over several layers: one pass, each layer's artifacts as a job on
that layer alone writes them (issue 21, acceptance 3)."""

import numpy as np
import pytest
from PIL import Image

from server.errors import UnknownReference, Unprocessable, ValidationFailed
from workers.models import Artifact
from workers.services import jobs as job_services
from workers.services.datasets import dataset_register
from workers.services.job_run import job_run
from workers.services.jobs import job_request
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db

IMAGES = 3
PARAMS = {"dataset": "photos", "k": 1, "crop_size": 16}


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch, settings):
    settings.ATLAS_DATASET_BATCH_SIZE = 2
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    generator = np.random.default_rng(0)
    for number in range(IMAGES):
        pixels = generator.integers(0, 256, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{number}.png")
    dataset_register(name="photos", path=folder)
    return folder


@pytest.fixture
def network():
    return network_register(name="tiny", arch="mobilenet_v2", random_seed=0, input_size=32)


def run(network, layer_name, **params):
    job, _ = job_request(
        network=network,
        kind="dataset_examples",
        layer_name=layer_name,
        params={**PARAMS, **params},
        actor=None,
    )
    job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def contents(job, layer):
    """(unit index or None, kind, variant) → the artifact's bytes, of one layer of a job."""
    return {
        (artifact.unit.index if artifact.unit else None, artifact.kind, artifact.variant): (
            artifact.file.read()
        )
        for artifact in Artifact.objects.filter(job=job, layer=layer).select_related("unit")
    }


# Every kind of studied layer of MobileNetV2: the stem (a ReLU6 the pass swaps), a depthwise
# convolution, a linear projection (no activation), an expansion, a block with a residual.
# Every layer at once (17,056 units) writes too many files for a test on a shared machine.
LAYERS = ["features.0", "features.1.depthwise", "features.1", "features.2.expand", "features.3"]


def test_one_job_over_several_layers_writes_what_the_per_layer_jobs_write(photos, network):
    whole = run(network, None, layers=",".join(LAYERS))

    layers = list(network.layers.filter(name__in=LAYERS).order_by("order"))
    per_layer = {layer.name: contents(run(network, layer.name), layer) for layer in layers}
    assert whole.status == "succeeded"
    assert whole.timings["layers"] == len(LAYERS)
    assert {layer.name: contents(whole, layer) for layer in layers} == per_layer


def test_a_job_over_several_layers_writes_nothing_for_the_others(photos, network):
    whole = run(network, None, layers=",".join(LAYERS))

    written = set(Artifact.objects.filter(job=whole).values_list("layer__name", flat=True))
    assert written == set(LAYERS)


def request(network, layer_name, **params):
    job, _ = job_request(
        network=network,
        kind="dataset_examples",
        layer_name=layer_name,
        params={**PARAMS, **params},
        actor=None,
    )
    return job


def test_a_job_without_a_layer_covers_every_layer_by_default(photos, network):
    job = request(network, None)

    assert (job.layer, job.params["layers"]) == (None, "all")


def test_a_list_of_layers_is_kept_in_network_order(photos, network):
    job = request(network, None, layers="features.3, features.1")

    assert job.params["layers"] == "features.1,features.3"


def test_every_layer_named_is_the_same_job_as_all(photos, network):
    names = ",".join(network.layers.values_list("name", flat=True))

    assert request(network, None, layers=names).pk == request(network, None).pk


def test_a_job_on_one_layer_hashes_without_the_layers_parameter(photos, network):
    job = request(network, "features.1")

    assert "layers" not in job.params


def test_a_job_on_one_layer_may_not_name_other_layers(photos, network):
    with pytest.raises(Unprocessable) as error:
        request(network, "features.1", layers="features.2")

    assert list(error.value.fields) == ["params.layers"]


def test_an_unknown_layer_in_the_list_is_refused(photos, network):
    with pytest.raises(UnknownReference) as error:
        request(network, None, layers="features.1,nowhere")

    assert list(error.value.fields) == ["params.layers"]


def test_units_need_a_layer(photos, network):
    with pytest.raises(ValidationFailed) as error:
        job_request(
            network=network,
            kind="dataset_examples",
            layer_name=None,
            unit_indices=[0],
            params=PARAMS,
            actor=None,
        )

    assert list(error.value.fields) == ["units"]


def test_other_kinds_need_a_layer(photos, network):
    with pytest.raises(ValidationFailed) as error:
        job_request(network=network, kind="weights", layer_name=None, actor=None)

    assert list(error.value.fields) == ["layer"]
