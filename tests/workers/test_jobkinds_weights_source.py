"""The weights job's default source layer: the nearest earlier layer whose kernels into the
target are spatial (a smaller receptive field), named in full in the job's parameters."""

import pytest

from tests.factories.workers import LayerFactory, NetworkFactory
from workers.services import jobs as job_services
from workers.services.jobs import job_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


@pytest.fixture
def network():
    """A MobileNetV2 block as the catalog records it: stem 3×3, expand 1×1, depthwise 3×3,
    projection 1×1, then the next block's expand 1×1."""
    network = NetworkFactory(name="mobile")
    for order, (name, field) in enumerate(
        [
            ("features.0", 3),
            ("features.1.expand", 3),
            ("features.1.depthwise", 7),
            ("features.1", 7),
            ("features.2.expand", 7),
        ]
    ):
        LayerFactory(network=network, name=name, order=order, receptive_field=field)
    return network


def source_of(network, layer, **params):
    job, _ = job_request(
        network=network, kind="weights", layer_name=layer, params=params, actor=None
    )
    return job.params["source_layer"]


@pytest.mark.parametrize(
    ("layer", "source"),
    [
        ("features.1.depthwise", "features.1.expand"),
        ("features.1", "features.1.expand"),
        ("features.2.expand", "features.1.expand"),
        ("features.1.expand", "features.0"),
    ],
)
def test_the_default_is_the_nearest_earlier_layer_with_a_smaller_receptive_field(
    network, layer, source
):
    assert source_of(network, layer) == source


def test_a_chosen_source_layer_is_kept(network):
    assert source_of(network, "features.2.expand", source_layer="features.1") == "features.1"


def test_asking_by_default_and_by_name_is_one_job(network):
    by_default, _ = job_request(
        network=network, kind="weights", layer_name="features.1", params={}, actor=None
    )
    by_name, created = job_request(
        network=network,
        kind="weights",
        layer_name="features.1",
        params={"source_layer": "features.1.expand"},
        actor=None,
    )

    assert (by_name.pk, created) == (by_default.pk, False)


def test_without_receptive_fields_the_default_is_the_previous_layer(network):
    network.layers.filter(name="features.0").update(receptive_field=None)

    assert source_of(network, "features.1") == "features.1.depthwise"
