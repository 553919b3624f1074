import pytest

from annotations.selectors.networks import project_networks
from tests.factories.annotations import ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory, NetworkFactory

pytestmark = pytest.mark.django_db


def test_project_networks_count_layers_and_units_of_each_network():
    project = ProjectFactory()
    inception = NetworkFactory(name="inception-v1", arch="inception_v1")
    LayerFactory(network=inception, channels=64)
    LayerFactory(network=inception, channels=192)
    empty = NetworkFactory(name="empty")
    ProjectNetworkFactory(project=project, network=inception)
    ProjectNetworkFactory(project=project, network=empty)
    ProjectNetworkFactory(network__name="elsewhere")

    networks = project_networks(project=project)

    assert [(n.name, n.layer_count, n.unit_count) for n in networks] == [
        ("empty", 0, 0),
        ("inception-v1", 2, 256),
    ]
