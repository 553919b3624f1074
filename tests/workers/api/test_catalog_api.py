import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory
from tests.factories.workers import LayerFactory, NetworkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def network():
    network = NetworkFactory(name="tiny")
    LayerFactory(network=network, name="conv1", order=0, channels=3, receptive_field=3, stride=1)
    LayerFactory(network=network, name="conv2", order=1, channels=5, receptive_field=5, stride=2)
    return network


@pytest.fixture
def viewer(api_client, network):
    user = UserFactory()
    link = ProjectNetworkFactory(network=network)
    MembershipFactory(project=link.project, user=user, role=Role.VIEWER)
    api_client.force_authenticate(user)
    return api_client


def test_networks_list_shows_only_networks_of_my_projects(viewer, network):
    NetworkFactory(name="someone-elses")

    body = viewer.get("/api/v1/networks/").json()

    assert [(n["name"], n["layer_count"], n["unit_count"]) for n in body["results"]] == [
        ("tiny", 2, 8)
    ]


def test_network_list_is_a_constant_number_of_queries(api_client):
    user = UserFactory(is_superuser=True)
    api_client.force_authenticate(user)
    LayerFactory()
    with CaptureQueriesContext(connection) as few:
        api_client.get("/api/v1/networks/")
    LayerFactory.create_batch(10)

    with CaptureQueriesContext(connection) as many:
        response = api_client.get("/api/v1/networks/")

    assert response.json()["count"] == 11
    assert len(many) == len(few)


def test_layers_are_listed_in_order_with_their_geometry(viewer, network):
    body = viewer.get("/api/v1/networks/tiny/layers/").json()

    assert [
        (row["name"], row["channels"], row["receptive_field"], row["stride"]) for row in body
    ] == [
        ("conv1", 3, 3, 1),
        ("conv2", 5, 5, 2),
    ]


def test_units_filter_by_layer_and_read_like_the_papers(viewer, network):
    body = viewer.get("/api/v1/networks/tiny/units/", {"layer": "conv2", "index_min": 3}).json()

    assert [unit["address"] for unit in body["results"]] == ["conv2:3", "conv2:4"]


def test_a_unit_is_addressed_as_layer_colon_index(viewer, network):
    body = viewer.get("/api/v1/networks/tiny/units/conv2:4/").json()

    assert (body["layer"], body["index"], body["address"]) == ("conv2", 4, "conv2:4")


def test_units_filter_by_exact_index(viewer, network):
    body = viewer.get("/api/v1/networks/tiny/units/", {"layer": "conv2", "index": 3}).json()

    assert [row["address"] for row in body["results"]] == ["conv2:3"]


def test_a_unit_index_that_is_not_an_integer_is_refused(viewer, network):
    response = viewer.get("/api/v1/networks/tiny/units/", {"index": "0.5"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["index"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/networks/tiny/units/conv9:1/", 404, "unknown_unit"),
        ("/api/v1/networks/tiny/units/conv2:5/", 404, "unknown_unit"),
        ("/api/v1/networks/tiny/units/conv2/", 404, "unknown_unit"),
        ("/api/v1/networks/tiny/units/conv2:\u00b2/", 404, "unknown_unit"),
        ("/api/v1/networks/tiny/layers/conv9/", 404, "unknown_layer"),
    ],
)
def test_unknown_layers_and_units_get_clear_errors(viewer, network, path, status, code):
    response = viewer.get(path)

    assert response.status_code == status
    assert response.json()["code"] == code


def test_a_network_outside_my_projects_is_404_like_a_missing_one(viewer, network):
    NetworkFactory(name="hidden")

    hidden = viewer.get("/api/v1/networks/hidden/layers/")
    missing = viewer.get("/api/v1/networks/missing/layers/")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == {**missing.json(), "detail": hidden.json()["detail"]}
