"""Circuit weights run in web requests: they never load a user's TorchScript model there."""

import pytest

from annotations.services import circuit_weights
from annotations.services.circuit_weights import weight_between
from server.errors import ValidationFailed
from tests.factories.workers import LayerFactory
from workers.models import Network

pytestmark = pytest.mark.django_db


def test_weights_of_a_torchscript_network_are_refused_without_loading_it(monkeypatch):
    loads = []
    monkeypatch.setattr(
        circuit_weights, "network_for", lambda network, on=None: loads.append(network)
    )
    first = LayerFactory(network__source=Network.Source.TORCHSCRIPT, network__arch="", order=0)
    second = LayerFactory(network=first.network, order=1)

    with pytest.raises(ValidationFailed) as error:
        weight_between(
            network=first.network,
            source_unit=first.units.get(index=0),
            target_unit=second.units.get(index=0),
        )

    assert error.value.code == "weights_unavailable"
    assert error.value.detail == (
        "The engine cannot compute these weights: Weights between units are read from "
        "built-in architectures only; this is a TorchScript network."
    )
    assert loads == []
