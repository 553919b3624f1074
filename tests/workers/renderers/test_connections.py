"""The connections job: every weight into a layer from an earlier one, stored as arrays in the
source layer's order, the same numbers the engine computes."""

import io

import numpy as np
import pytest
import torch

from server.errors import Unprocessable
from tests.factories.workers import LayerFactory
from workers.engine.networks import load_builtin
from workers.engine.weights import unit_weights
from workers.models import Artifact, Network
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


def _request(network, layer, **params):
    job, _ = job_request(
        network=network, kind="connections", layer_name=layer, params=params, actor=None
    )
    return job


def _stored(job, variant):
    artifact = Artifact.objects.get(job=job, kind="layer_data", variant=variant)
    return artifact, np.load(io.BytesIO(artifact.file.read()), allow_pickle=False)


def test_every_kernel_into_the_layer_is_stored_in_the_source_layers_order(network):
    job = _request(network, "features.2.expand")

    assert job_run(job_id=job.pk) == "succeeded"

    engine = unit_weights(
        load_builtin("mobilenet_v2", random_seed=0, input_size=64), "features.2.expand", k=16
    )
    artifact, kernels = _stored(job, "kernels")
    _, norms = _stored(job, "norms")
    assert (kernels.shape, norms.shape, kernels.dtype) == ((96, 16, 1, 1), (96, 16), np.float32)
    assert artifact.meta == {
        "source_layer": "features.1",
        "mode": "direct",
        "shape": [96, 16, 1, 1],
    }
    rows = torch.arange(96).unsqueeze(1)
    torch.testing.assert_close(torch.from_numpy(kernels)[rows, engine.indices], engine.kernels)
    torch.testing.assert_close(torch.from_numpy(norms), engine.norm_matrix)


def test_the_previous_layer_asked_by_name_or_by_default_is_one_job(network):
    by_default = _request(network, "features.2.expand")
    by_name = _request(network, "features.2.expand", source_layer="features.1")

    assert by_name == by_default
    assert by_default.params == {"source_layer": "features.1"}


def test_expanded_weights_across_two_layers_are_stored_with_their_mode(network):
    job = _request(network, "features.2", source_layer="features.2.expand")

    assert job_run(job_id=job.pk) == "succeeded"

    artifact, kernels = _stored(job, "kernels")
    assert (artifact.meta["mode"], kernels.shape) == ("expanded", (24, 96, 3, 3))


@pytest.mark.parametrize(
    ("layer", "params", "field"),
    [
        ("features.0", {}, "layer"),
        ("features.2.expand", {"source_layer": "features.9"}, "params.source_layer"),
    ],
)
def test_impossible_connections_are_refused(network, layer, params, field):
    with pytest.raises(Unprocessable) as error:
        _request(network, layer, **params)

    assert list(error.value.fields) == [field]


def test_a_torchscript_network_is_refused_before_a_job_exists():
    first = LayerFactory(network__source=Network.Source.TORCHSCRIPT, network__arch="", order=0)
    LayerFactory(network=first.network, name="second", order=1)

    with pytest.raises(Unprocessable) as error:
        job_request(network=first.network, kind="connections", layer_name="second", actor=None)

    assert (error.value.code, list(error.value.fields)) == ("weights_unavailable", ["network"])
    assert not first.network.jobs.exists()
