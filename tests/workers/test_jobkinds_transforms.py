"""A feature-visualization job's `transforms`: omitted, on for every layer but the network's
first, whose few-pixel patterns the transforms' resampling blurs; given, kept as given."""

import pytest

from tests.factories.workers import LayerFactory
from workers.jobkinds import JOB_KINDS

pytestmark = pytest.mark.django_db


def cleaned(layer, **params):
    return JOB_KINDS["feature_visualization"].clean_params(
        params, network=layer.network, layer=layer
    )


@pytest.mark.parametrize(("order", "expected"), [(0, False), (1, True), (7, True)])
def test_omitted_transforms_are_off_on_the_first_layer_only(order, expected):
    assert cleaned(LayerFactory(order=order))["transforms"] is expected


@pytest.mark.parametrize("order", [0, 3])
@pytest.mark.parametrize("asked", [True, False])
def test_transforms_asked_for_are_kept_on_any_layer(order, asked):
    assert cleaned(LayerFactory(order=order), transforms=asked)["transforms"] is asked


def test_a_first_layer_request_with_transforms_omitted_is_the_same_job_as_one_without():
    layer = LayerFactory(order=0)

    assert cleaned(layer) == cleaned(layer, transforms=False)
    assert cleaned(layer) != cleaned(layer, transforms=True)
