"""GET /releases/<name>/diff/?against=<any earlier release>."""

import pytest

from annotations.models import Role
from annotations.services.groups import units_assign
from annotations.services.releases import release_create
from tests.factories.annotations import MembershipFactory

pytestmark = pytest.mark.django_db

DIFF = "/api/v1/projects/early-vision/releases/{}/diff/"


@pytest.fixture
def releases(project, network, owner, taxonomy):
    """v1; v2 moves conv2d0:1 into Other units; v3 moves mixed3b:0 there too."""
    names = ["v1"]
    release_create(project=project, actor=owner, name="v1")
    for name, address in (("v2", "conv2d0:1"), ("v3", "mixed3b:0")):
        units_assign(
            project=project,
            network=network,
            addresses=[address],
            group=taxonomy["other"],
            actor=owner,
        )
        release_create(project=project, actor=owner, name=name)
        names.append(name)
    return names


@pytest.fixture
def client(api_client, owner):
    api_client.force_authenticate(owner)
    return api_client


def _moved(response):
    body = response.json()
    return (body["from"], body["to"], [unit["unit"] for unit in body["units"]])


def test_without_against_the_diff_is_with_the_release_before(client, releases):
    response = client.get(DIFF.format("v3"))

    assert response.status_code == 200
    assert _moved(response) == ("v2", "v3", ["mixed3b:0"])


def test_against_any_earlier_release(client, releases):
    response = client.get(DIFF.format("v3"), {"against": "v1"})

    assert response.status_code == 200
    assert _moved(response) == ("v1", "v3", ["conv2d0:1", "mixed3b:0"])


def test_against_a_release_that_does_not_exist_is_a_422(client, releases):
    response = client.get(DIFF.format("v3"), {"against": "v9"})

    assert response.status_code == 422
    assert response.json() == {
        "detail": "No release 'v9' in this project to compare with.",
        "code": "unknown_reference",
        "fields": {"against": ["Unknown release."]},
    }


def test_against_another_projects_release_is_a_422(client, releases):
    elsewhere = MembershipFactory(role=Role.OWNER)
    release_create(project=elsewhere.project, actor=elsewhere.user, name="v0")

    response = client.get(DIFF.format("v3"), {"against": "v0"})

    assert response.status_code == 422
    assert response.json()["fields"] == {"against": ["Unknown release."]}


def test_the_first_release_needs_against(client, releases):
    response = client.get(DIFF.format("v1"))

    assert response.status_code == 422
    assert response.json()["fields"] == {"against": ["Required: this is the first release."]}
