import pytest

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory, NetworkFactory

pytestmark = pytest.mark.django_db


def test_lists_the_projects_networks_with_their_counts(api_client):
    member = MembershipFactory(role=Role.VIEWER, project__slug="curves")
    inception = NetworkFactory(name="inception-v1", arch="inception_v1")
    LayerFactory(network=inception, channels=64)
    LayerFactory(network=inception, channels=192)
    ProjectNetworkFactory(project=member.project, network=inception)
    ProjectNetworkFactory(network__name="elsewhere")
    api_client.force_authenticate(member.user)

    response = api_client.get("/api/v1/projects/curves/networks/")

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": inception.pk,
                "name": "inception-v1",
                "arch": "inception_v1",
                "source": "builtin",
                "status": "ready",
                "layer_count": 2,
                "unit_count": 256,
            }
        ],
    }


def test_costs_the_same_queries_for_many_networks(api_client, django_assert_num_queries):
    member = MembershipFactory(role=Role.VIEWER, project__slug="curves")
    for _ in range(5):
        link = ProjectNetworkFactory(project=member.project)
        LayerFactory.create_batch(2, network=link.network)
    api_client.force_authenticate(member.user)

    # project, its role check, count, page
    with django_assert_num_queries(3):
        response = api_client.get("/api/v1/projects/curves/networks/")

    assert [n["layer_count"] for n in response.json()["results"]] == [2, 2, 2, 2, 2]


def test_a_network_being_inspected_is_listed_with_its_status_and_no_layers(api_client):
    member = MembershipFactory(role=Role.VIEWER, project__slug="curves")
    ProjectNetworkFactory(project=member.project, network__status="inspecting")
    api_client.force_authenticate(member.user)

    response = api_client.get("/api/v1/projects/curves/networks/")

    network = response.json()["results"][0]
    assert (network["status"], network["layer_count"], network["unit_count"]) == (
        "inspecting",
        0,
        0,
    )
