"""Reading stored connections: one weight, the strongest into a unit, the strongest from a unit,
each with its magnitude (L2 norm), sign (of the kernel's sum) and kernel."""

import numpy as np
import pytest

from tests.factories.connections import connections_stored
from tests.factories.workers import JobFactory, LayerFactory
from workers.models import Job
from workers.selectors.connections import Weight, layer_connections

pytestmark = pytest.mark.django_db

# Three units of layer b from four of layer a, 1×2 kernels; row = unit of b, column = unit of a.
KERNELS = np.array(
    [
        [[[3, 4]], [[0, 1]], [[-1, -1]], [[0, 0]]],
        [[[1, 0]], [[0, -2]], [[2, 2]], [[0, 0.5]]],
        [[[0, 0]], [[6, -8]], [[0, 0]], [[1, 1]]],
    ],
    dtype=np.float32,
)


@pytest.fixture
def layers():
    a = LayerFactory(name="a", order=0, channels=4)
    b = LayerFactory(network=a.network, name="b", order=1, channels=3)
    return a, b


def test_one_weight_holds_its_kernel_norm_and_sign(layers):
    a, b = layers
    connections_stored(b, a, KERNELS)

    weight = layer_connections(layer=b, source_layer=a).weight(1, 2)

    assert weight == Weight("a", 1, "b", 2, 10.0, -1, "direct", [[6.0, -8.0]])


def test_the_strongest_inputs_come_first_down_to_the_threshold(layers):
    a, b = layers
    connections_stored(b, a, KERNELS)

    weights = layer_connections(layer=b, source_layer=a).strongest_into(1, k=3, threshold=1.0)

    assert [(w.source, w.magnitude, w.sign) for w in weights] == [
        (2, pytest.approx(8**0.5), 1),
        (1, 2.0, -1),
        (0, 1.0, 1),
    ]


def test_the_strongest_outputs_come_first_and_k_bounds_them(layers):
    a, b = layers
    connections_stored(b, a, KERNELS)

    weights = layer_connections(layer=b, source_layer=a).strongest_from(1, k=2, threshold=0.0)

    assert [(w.target, w.magnitude, w.kernel) for w in weights] == [
        (2, 10.0, [[6.0, -8.0]]),
        (1, 2.0, [[0.0, -2.0]]),
    ]


def test_no_output_reaches_the_threshold(layers):
    a, b = layers
    connections_stored(b, a, KERNELS)

    assert layer_connections(layer=b, source_layer=a).strongest_from(3, k=3, threshold=5.0) == []


def test_the_latest_job_that_succeeded_is_read(layers):
    a, b = layers
    connections_stored(b, a, KERNELS)
    latest = connections_stored(b, a, -KERNELS, mode="expanded")
    JobFactory(
        kind=Job.Kind.CONNECTIONS,
        layer=b,
        params={"source_layer": a.name},
        status=Job.Status.QUEUED,
    )

    connections = layer_connections(layer=b, source_layer=a)

    assert (connections.job, connections.mode) == (latest, "expanded")
    assert connections.weight(0, 0).sign == -1


def test_nothing_is_stored_for_another_source_layer_or_before_any_job(layers):
    a, b = layers
    c = LayerFactory(network=a.network, name="c", order=2, channels=2)
    connections_stored(b, a, KERNELS)

    assert layer_connections(layer=c, source_layer=b) is None
    assert layer_connections(layer=c, source_layer=a) is None
