import pytest
from rest_framework.test import APIClient

from annotations.models import Role
from tests.factories.annotations import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer():
    return MembershipFactory(role=Role.VIEWER, project__slug="curves", user__username="vera")


@pytest.fixture
def client(viewer):
    client = APIClient()
    client.force_authenticate(viewer.user)
    return client


def test_a_method_the_view_does_not_handle_is_405_before_the_project_is_looked_up(client):
    response = client.put("/api/v1/projects/no-such-project/groups/", {}, format="json")

    assert response.status_code == 405


def test_each_method_is_authorized_for_its_own_action_before_the_body_is_read(client):
    listed = client.get("/api/v1/projects/curves/groups/")
    created = client.post("/api/v1/projects/curves/groups/", {}, format="json")

    assert listed.status_code == 200
    assert created.status_code == 403
    assert created.json()["detail"] == "Your role does not allow group.create."


def test_a_project_the_user_may_not_see_is_the_same_404_as_a_missing_one(client):
    MembershipFactory(project__slug="secret")

    hidden = client.get("/api/v1/projects/secret/groups/")
    missing = client.get("/api/v1/projects/no-such-project/groups/")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
