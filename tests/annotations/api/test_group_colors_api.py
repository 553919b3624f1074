"""Groups created through the API without a colour get distinct palette colours."""

import pytest

from annotations.colors import PALETTE
from annotations.models import Role
from tests.factories.annotations import GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db

GROUPS = "/api/v1/projects/curves/groups/"


def test_two_groups_created_without_a_colour_get_different_ones(api_client):
    member = MembershipFactory(role=Role.ANNOTATOR, project__slug="curves")
    GroupFactory(project=member.project, name="Lines", color=PALETTE[0])
    api_client.force_authenticate(member.user)

    first = api_client.post(GROUPS, {"name": "Curves"}, format="json")
    second = api_client.post(GROUPS, {"name": "Circles"}, format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["color"], second.json()["color"]) == (PALETTE[1], PALETTE[2])
