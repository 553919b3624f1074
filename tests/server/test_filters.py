"""Query parameters of the wrong type are refused (400 naming them), as the schema says."""

import pytest

from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(api_client):
    membership = MembershipFactory(user=UserFactory())
    api_client.force_authenticate(membership.user)
    return membership


@pytest.mark.parametrize("value", ["null", "yes", "2"])
def test_unread_that_is_no_boolean_is_a_400(api_client, member, value):
    response = api_client.get(f"/api/v1/notifications/?unread={value}")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["unread"]


@pytest.mark.parametrize("value", ["true", "false", "1", "0"])
def test_unread_takes_true_and_false(api_client, member, value):
    response = api_client.get(f"/api/v1/notifications/?unread={value}")

    assert response.status_code == 200


def test_a_fractional_hypothesis_group_is_a_400(api_client, member):
    response = api_client.get(f"/api/v1/projects/{member.project.slug}/hypotheses/?group=0.5")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["group"]


def test_a_fractional_event_target_id_is_a_400(api_client, member):
    response = api_client.get(f"/api/v1/projects/{member.project.slug}/events/?target_id=1.5")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["target_id"]


def test_a_fractional_unit_index_bound_is_a_400(api_client, member):
    network = ProjectNetworkFactory(project=member.project).network

    response = api_client.get(f"/api/v1/networks/{network.name}/units/?index_min=0.5")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["index_min"]


def test_an_unknown_link_status_is_a_400(api_client, member):
    response = api_client.get(f"/api/v1/projects/{member.project.slug}/links/?status=AAA")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["status"]
