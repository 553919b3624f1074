"""A request of the right shape that names nothing here is a 422; a malformed one a 400."""

import pytest

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(api_client):
    membership = MembershipFactory(user=UserFactory(), role=Role.OWNER)
    api_client.force_authenticate(membership.user)
    return membership


def test_a_related_field_naming_no_object_is_a_422(api_client, owner):
    response = api_client.post(
        f"/api/v1/projects/{owner.project.slug}/members/",
        {"username": "nobody", "role": "viewer"},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_reference"
    assert list(response.json()["fields"]) == ["username"]


def test_a_malformed_field_beside_it_keeps_the_400(api_client, owner):
    response = api_client.post(
        f"/api/v1/projects/{owner.project.slug}/members/",
        {"username": "nobody", "role": "emperor"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert sorted(response.json()["fields"]) == ["role", "username"]
