import pytest

from annotations.models import Membership, Role
from tests.factories.annotations import MembershipFactory, UserFactory
from tests.openapi import component, operation

pytestmark = pytest.mark.django_db

MEMBERS = "/api/v1/projects/curves/members/"


@pytest.fixture
def owner(api_client):
    owner = MembershipFactory(role=Role.OWNER, project__slug="curves", user__username="olah")
    api_client.force_authenticate(owner.user)
    return owner


def _roles():
    return sorted(Membership.objects.values_list("user__username", "role"))


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def test_list_shows_members_by_username(api_client, owner):
    voss = MembershipFactory(project=owner.project, user__username="voss", role=Role.VIEWER)

    response = api_client.get(MEMBERS)

    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {"username": "olah", "role": "owner", "created_at": _iso(owner.created_at)},
            {"username": "voss", "role": "viewer", "created_at": _iso(voss.created_at)},
        ],
    }


def test_list_costs_the_same_queries_for_many_members(api_client, owner, django_assert_num_queries):
    MembershipFactory.create_batch(6, project=owner.project)

    # project, its role check, count, page
    with django_assert_num_queries(3):
        response = api_client.get(MEMBERS)

    assert response.json()["count"] == 7


def test_owner_adds_a_member(api_client, owner):
    UserFactory(username="voss")

    response = api_client.post(MEMBERS, {"username": "voss", "role": "annotator"})

    assert response.status_code == 201
    membership = Membership.objects.get(user__username="voss")
    assert response.json() == {
        "username": "voss",
        "role": "annotator",
        "created_at": _iso(membership.created_at),
    }
    assert _roles() == [("olah", "owner"), ("voss", "annotator")]


def test_adding_an_unknown_user_is_a_422(api_client, owner):
    response = api_client.post(MEMBERS, {"username": "ghost", "role": "viewer"})

    assert response.status_code == 422
    assert response.json() == {
        "detail": "The request names something that does not exist here.",
        "code": "unknown_reference",
        "fields": {"username": ["Object with username=ghost does not exist."]},
    }
    assert _roles() == [("olah", "owner")]


def test_adding_an_unknown_role_is_a_400(api_client, owner):
    UserFactory(username="voss")

    response = api_client.post(MEMBERS, {"username": "voss", "role": "boss"})

    assert response.status_code == 400
    assert response.json()["fields"] == {"role": ['"boss" is not a valid choice.']}
    assert _roles() == [("olah", "owner")]


def test_adding_a_member_again_is_a_409(api_client, owner):
    MembershipFactory(project=owner.project, user__username="voss", role=Role.VIEWER)

    response = api_client.post(MEMBERS, {"username": "voss", "role": "owner"})

    assert response.status_code == 409
    assert response.json() == {
        "detail": "'voss' is already a member of this project.",
        "code": "already_member",
        "fields": {"username": ["Already a member."]},
    }
    assert _roles() == [("olah", "owner"), ("voss", "viewer")]


def test_owner_changes_a_role(api_client, owner):
    MembershipFactory(project=owner.project, user__username="voss", role=Role.VIEWER)

    response = api_client.patch(f"{MEMBERS}voss/", {"role": "reviewer"})

    assert response.status_code == 200
    assert (response.json()["username"], response.json()["role"]) == ("voss", "reviewer")
    assert _roles() == [("olah", "owner"), ("voss", "reviewer")]


def test_the_last_owner_stepping_down_is_a_409(api_client, owner):
    response = api_client.patch(f"{MEMBERS}olah/", {"role": "viewer"})

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Cannot change the role of the last owner; make another member an owner first.",
        "code": "last_owner",
        "fields": {},
    }
    assert _roles() == [("olah", "owner")]


def test_changing_the_role_of_a_non_member_is_a_404(api_client, owner):
    UserFactory(username="voss")

    response = api_client.patch(f"{MEMBERS}voss/", {"role": "reviewer"})

    assert response.status_code == 404
    assert response.json() == {
        "detail": "'voss' is not a member of this project.",
        "code": "not_found",
        "fields": {},
    }
    assert _roles() == [("olah", "owner")]


def test_changing_a_role_without_one_is_a_400(api_client, owner):
    MembershipFactory(project=owner.project, user__username="voss", role=Role.VIEWER)

    response = api_client.patch(f"{MEMBERS}voss/", {}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["role"]
    assert _roles() == [("olah", "owner"), ("voss", "viewer")]


def test_the_schema_requires_the_role_of_a_change():
    body = operation("patch", "/api/v1/projects/{slug}/members/{username}/")["requestBody"]
    reference = body["content"]["application/json"]["schema"]["$ref"]

    assert component(reference.rsplit("/", 1)[1])["required"] == ["role"]


def test_owner_removes_a_member(api_client, owner):
    MembershipFactory(project=owner.project, user__username="voss", role=Role.VIEWER)

    response = api_client.delete(f"{MEMBERS}voss/")

    assert response.status_code == 204
    assert _roles() == [("olah", "owner")]


def test_removing_the_last_owner_is_a_409(api_client, owner):
    response = api_client.delete(f"{MEMBERS}olah/")

    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"
    assert _roles() == [("olah", "owner")]
