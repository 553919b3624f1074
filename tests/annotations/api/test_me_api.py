import pytest

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, UserFactory
from tests.openapi import component

pytestmark = pytest.mark.django_db


def test_me_shows_the_user_and_their_memberships(api_client):
    user = UserFactory(username="olah", email="olah@example.org")
    curves = MembershipFactory(
        user=user, project__slug="curves", project__name="Curves", role=Role.OWNER
    )
    MembershipFactory(project__slug="elsewhere")
    api_client.force_authenticate(user)

    response = api_client.get("/api/v1/auth/me/")

    assert response.status_code == 200
    assert response.json() == {
        "user": {
            "id": user.pk,
            "username": "olah",
            "email": "olah@example.org",
            "is_superuser": False,
        },
        "memberships": [
            {
                "project": {"slug": "curves", "name": "Curves"},
                "role": "owner",
                "created_at": curves.created_at.isoformat().replace("+00:00", "Z"),
            }
        ],
    }


def test_me_needs_a_signed_in_user(api_client):
    response = api_client.get("/api/v1/auth/me/")

    assert response.status_code == 401


def test_me_shows_a_user_without_an_email_as_the_schema_allows(api_client):
    user = UserFactory(username="olah", email="")
    api_client.force_authenticate(user)

    response = api_client.get("/api/v1/auth/me/")

    assert response.json()["user"]["email"] == ""
    assert component("UserOutput")["properties"]["email"] == {
        "type": "string",
        "description": "The user's email address; empty when none is set.",
    }
