import io
import json

import numpy as np
import pytest

from server.errors import ValidationFailed
from workers.models import Artifact
from workers.services import jobs as job_services
from workers.services.job_run import job_run
from workers.services.jobs import job_request
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


@pytest.fixture
def network():
    return network_register(name="tiny", arch="mobilenet_v2", random_seed=0, input_size=64)


def run_weights(network, layer, **params):
    job, _ = job_request(
        network=network, kind="weights", layer_name=layer, params=params, actor=None
    )
    job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_direct_weights_from_the_previous_layer_are_written_per_unit(network):
    job = run_weights(network, "features.2.expand", k=5, source_layer="features.1")

    summary = json.loads(Artifact.objects.get(job=job, unit__index=7, kind="unit_json").file.read())
    assert job.status == "succeeded"
    assert (summary["source_layer"], summary["mode"]) == ("features.1", "direct")
    assert len(summary["incoming"]) == 5
    norms = [entry["norm"] for entry in summary["incoming"]]
    assert norms == sorted(norms, reverse=True)
    assert np.array(summary["incoming"][0]["kernel"]).shape == (1, 1)


def test_expanded_weights_through_a_depthwise_convolution_are_3x3(network):
    job = run_weights(network, "features.2", k=4, source_layer="features.2.expand")

    summary = json.loads(Artifact.objects.get(job=job, unit__index=0, kind="unit_json").file.read())
    assert summary["mode"] == "expanded"
    assert np.array(summary["incoming"][0]["kernel"]).shape == (3, 3)


def test_by_default_a_layer_fed_by_1x1_convolutions_shows_spatial_expanded_kernels(network):
    job = run_weights(network, "features.2", k=4)

    summary = json.loads(Artifact.objects.get(job=job, unit__index=0, kind="unit_json").file.read())
    assert (job.params["source_layer"], summary["mode"]) == ("features.2.expand", "expanded")
    assert np.array(summary["incoming"][0]["kernel"]).shape == (3, 3)


def test_the_norm_matrix_is_kept_for_outgoing_lookups(network):
    job = run_weights(network, "features.2.expand", k=3, source_layer="features.1")

    data = Artifact.objects.get(job=job, kind="layer_data")
    norms = np.load(io.BytesIO(data.file.read()))
    assert norms.shape == (96, 16)
    assert data.meta["source_layer"] == "features.1"


@pytest.mark.parametrize(
    ("layer", "params", "field"),
    [
        ("features.0", {}, "layer"),
        ("features.2.expand", {"source_layer": "features.9"}, "params.source_layer"),
    ],
)
def test_impossible_weight_requests_are_refused(network, layer, params, field):
    with pytest.raises(ValidationFailed) as error:
        job_request(network=network, kind="weights", layer_name=layer, params=params, actor=None)

    assert list(error.value.fields) == [field]
