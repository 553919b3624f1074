"""A JSON body is read with the types its schema states; query strings keep their text."""

import pytest

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(api_client):
    membership = MembershipFactory(user=UserFactory(), role=Role.OWNER)
    api_client.force_authenticate(membership.user)
    return membership


def test_a_number_for_a_string_field_is_a_400(api_client, member):
    response = api_client.post("/api/v1/projects/", {"slug": "curves", "name": 12}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["name"]


def test_a_string_for_a_boolean_field_is_a_400(api_client, member):
    response = api_client.post("/api/v1/notifications/mark-read/", {"all": "yes"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["all"]


def test_a_string_for_an_integer_field_is_a_400(api_client, member):
    response = api_client.post("/api/v1/notifications/mark-read/", {"ids": ["7"]}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["ids.0"]


def test_query_strings_keep_their_text_booleans(api_client, member):
    response = api_client.get("/api/v1/notifications/?unread=true")

    assert response.status_code == 200


def test_a_nul_character_in_a_related_name_is_a_400_not_a_server_error(api_client, member):
    response = api_client.post(
        f"/api/v1/projects/{member.project.slug}/members/",
        {"username": "a\x00b", "role": "viewer"},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["username"]
