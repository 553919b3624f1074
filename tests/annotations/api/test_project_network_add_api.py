"""Adding an already registered network to a project: POST /projects/<slug>/networks/existing/."""

import pytest

from annotations.models import Event, ProjectNetwork, Role
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory
from tests.factories.workers import LayerFactory, NetworkFactory

pytestmark = pytest.mark.django_db

ADD = "/api/v1/projects/second/networks/existing/"


def _links(project):
    return sorted(
        ProjectNetwork.objects.filter(project=project).values_list("network__name", flat=True)
    )


@pytest.fixture
def owner(api_client):
    owner = MembershipFactory(role=Role.OWNER, project__slug="second", user__username="olah")
    api_client.force_authenticate(owner.user)
    return owner


@pytest.fixture
def mobilenet(owner):
    """A network of another project the owner also belongs to (as a viewer)."""
    first = MembershipFactory(user=owner.user, role=Role.VIEWER, project__slug="first").project
    network = NetworkFactory(name="mobilenet-v2")
    LayerFactory(network=network, channels=32)
    ProjectNetworkFactory(project=first, network=network)
    return network


def test_owner_adds_a_network_of_another_of_their_projects(api_client, owner, mobilenet):
    response = api_client.post(ADD, {"network": "mobilenet-v2"}, format="json")

    assert response.status_code == 201
    assert response.json() == {
        "id": mobilenet.pk,
        "name": "mobilenet-v2",
        "arch": "mobilenet_v2",
        "source": "builtin",
        "status": "ready",
        "layer_count": 1,
        "unit_count": 32,
    }
    assert _links(owner.project) == ["mobilenet-v2"]
    link = ProjectNetwork.objects.get(project=owner.project)
    assert link.added_by == owner.user
    event = Event.objects.get(project=owner.project)
    assert (event.verb, event.actor, event.after) == (
        "project.network_added",
        owner.user,
        {"network": "mobilenet-v2"},
    )


def test_the_network_then_shows_in_the_projects_grid(api_client, owner, mobilenet):
    api_client.post(ADD, {"network": "mobilenet-v2"}, format="json")

    response = api_client.get("/api/v1/projects/second/networks/")

    assert [network["name"] for network in response.json()["results"]] == ["mobilenet-v2"]


def test_owner_adds_a_network_they_registered_outside_any_project(api_client, owner):
    NetworkFactory(name="own-net", created_by=owner.user)

    response = api_client.post(ADD, {"network": "own-net"}, format="json")

    assert response.status_code == 201
    assert _links(owner.project) == ["own-net"]


def test_a_network_the_owner_may_not_see_reads_as_unknown(api_client, owner):
    ProjectNetworkFactory(network__name="secret-net")

    response = api_client.post(ADD, {"network": "secret-net"}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": "No registered network 'secret-net' that you may add.",
        "code": "unknown_reference",
        "fields": {"network": ["Unknown network."]},
    }
    assert _links(owner.project) == []
    assert not Event.objects.exists()


def test_an_unknown_name_gives_422(api_client, owner):
    response = api_client.post(ADD, {"network": "nowhere"}, format="json")

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_reference"


def test_a_network_that_failed_inspection_gives_422(api_client, owner):
    NetworkFactory(name="broken", created_by=owner.user, status="failed")

    response = api_client.post(ADD, {"network": "broken"}, format="json")

    assert response.status_code == 422
    assert response.json()["code"] == "network_failed"
    assert _links(owner.project) == []


def test_a_network_already_in_the_project_gives_409(api_client, owner, mobilenet):
    ProjectNetworkFactory(project=owner.project, network=mobilenet)

    response = api_client.post(ADD, {"network": "mobilenet-v2"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "already_linked"
    assert ProjectNetwork.objects.filter(project=owner.project).count() == 1
    assert not Event.objects.exists()


def test_a_missing_name_gives_400(api_client, owner):
    response = api_client.post(ADD, {}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["network"]


def test_a_superuser_adds_any_network(api_client, owner):
    ProjectNetworkFactory(network__name="elsewhere")
    api_client.force_authenticate(UserFactory(is_superuser=True))

    response = api_client.post(ADD, {"network": "elsewhere"}, format="json")

    assert response.status_code == 201
    assert _links(owner.project) == ["elsewhere"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.OWNER, 201),
        (Role.REVIEWER, 403),
        (Role.ANNOTATOR, 403),
        (Role.VIEWER, 403),
        (None, 404),
    ],
)
def test_authorization_matrix(api_client, owner, role, expected):
    actor = UserFactory()
    if role is not None:
        MembershipFactory(project=owner.project, user=actor, role=role)
    # The actor can see the network either way: it is in another project of theirs.
    ProjectNetworkFactory(
        project=MembershipFactory(user=actor, role=Role.OWNER).project,
        network=NetworkFactory(name="shared"),
    )
    api_client.force_authenticate(actor)

    response = api_client.post(ADD, {"network": "shared"}, format="json")

    assert response.status_code == expected
    assert _links(owner.project) == (["shared"] if expected == 201 else [])
