import pytest

from annotations.models import Event, Membership, Project, Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def test_list_shows_my_projects_with_my_role_paginated(api_client):
    user = UserFactory()
    curves = MembershipFactory(
        user=user, role=Role.REVIEWER, project__slug="curves", project__name="Curves"
    ).project
    MembershipFactory(project__slug="elsewhere")
    api_client.force_authenticate(user)

    response = api_client.get("/api/v1/projects/")

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "slug": "curves",
                "name": "Curves",
                "description": "",
                "created_at": _iso(curves.created_at),
                "version": 1,
                "assignments_need_review": False,
                "required_approvals": 1,
                "role": "reviewer",
            }
        ],
    }


def test_list_costs_the_same_queries_for_many_projects(api_client, django_assert_num_queries):
    user = UserFactory()
    MembershipFactory.create_batch(7, user=user)
    api_client.force_authenticate(user)

    with django_assert_num_queries(2):
        response = api_client.get("/api/v1/projects/")

    assert response.json()["count"] == 7


def test_create_makes_me_the_owner(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)

    response = api_client.post(
        "/api/v1/projects/", {"slug": "curves", "name": "Curves", "description": "3b"}
    )

    project = Project.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "slug": "curves",
        "name": "Curves",
        "description": "3b",
        "created_at": _iso(project.created_at),
        "version": 1,
        "assignments_need_review": False,
        "required_approvals": 1,
        "role": "owner",
    }
    assert list(Membership.objects.values_list("project", "user", "role")) == [
        (project.pk, user.pk, "owner")
    ]


def test_create_with_a_taken_slug_is_a_409(api_client):
    ProjectFactory(slug="curves", name="Curves")
    api_client.force_authenticate(UserFactory())

    response = api_client.post("/api/v1/projects/", {"slug": "curves", "name": "Mine"})

    assert response.status_code == 409
    assert response.json() == {
        "detail": "A project with the slug 'curves' already exists.",
        "code": "slug_taken",
        "fields": {"slug": ["This slug is taken."]},
    }
    assert list(Project.objects.values_list("name", flat=True)) == ["Curves"]


def test_create_with_a_malformed_slug_is_a_400(api_client):
    api_client.force_authenticate(UserFactory())

    response = api_client.post("/api/v1/projects/", {"slug": "Curves!", "name": "Curves"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request has invalid fields.",
        "code": "invalid",
        "fields": {
            "slug": ['Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.']
        },
    }
    assert not Project.objects.exists()


def test_retrieve_shows_the_project(api_client):
    member = MembershipFactory(role=Role.VIEWER, project__slug="curves", project__name="Curves")
    api_client.force_authenticate(member.user)

    response = api_client.get("/api/v1/projects/curves/")

    assert response.status_code == 200
    assert response.json() == {
        "slug": "curves",
        "name": "Curves",
        "description": "",
        "created_at": _iso(member.project.created_at),
        "version": 1,
        "assignments_need_review": False,
        "required_approvals": 1,
        "role": "viewer",
    }


def test_missing_project_is_a_404(api_client):
    api_client.force_authenticate(UserFactory())

    response = api_client.get("/api/v1/projects/no-such-project/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Project not found.", "code": "not_found", "fields": {}}


def test_owner_patches_the_name_and_the_version_goes_up(api_client):
    owner = MembershipFactory(role=Role.OWNER, project__slug="curves", project__name="Curves")
    api_client.force_authenticate(owner.user)

    response = api_client.patch(
        "/api/v1/projects/curves/", {"name": "Curve detectors"}, HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["version"], response.json()["role"]) == (
        "Curve detectors",
        2,
        "owner",
    )
    assert Project.objects.values_list("name", "version").get() == ("Curve detectors", 2)


def test_reviewer_patch_is_a_403_and_changes_nothing(api_client):
    reviewer = MembershipFactory(role=Role.REVIEWER, project__slug="curves", project__name="Curves")
    api_client.force_authenticate(reviewer.user)

    response = api_client.patch("/api/v1/projects/curves/", {"name": "Mine"})

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your role does not allow project.update.",
        "code": "permission_denied",
        "fields": {},
    }
    assert Project.objects.values_list("name", "version").get() == ("Curves", 1)


def test_patch_with_a_blank_name_is_a_400(api_client):
    owner = MembershipFactory(role=Role.OWNER, project__slug="curves", project__name="Curves")
    api_client.force_authenticate(owner.user)

    response = api_client.patch("/api/v1/projects/curves/", {"name": ""})

    assert response.status_code == 400
    assert response.json()["fields"] == {"name": ["This field may not be blank."]}
    assert Project.objects.values_list("name", "version").get() == ("Curves", 1)


def test_retrieve_sends_the_version_as_etag(api_client):
    member = MembershipFactory(role=Role.VIEWER, project__slug="curves", project__version=3)
    api_client.force_authenticate(member.user)

    response = api_client.get("/api/v1/projects/curves/")

    assert response["ETag"] == '"3"'


def test_owner_changes_the_review_policy_with_if_match(api_client):
    owner = MembershipFactory(role=Role.OWNER, project__slug="curves", project__version=3)
    api_client.force_authenticate(owner.user)

    response = api_client.patch(
        "/api/v1/projects/curves/",
        {"assignments_need_review": True, "required_approvals": 2},
        HTTP_IF_MATCH='"3"',
    )

    assert response.status_code == 200
    assert response["ETag"] == '"4"'
    assert (
        response.json()["assignments_need_review"],
        response.json()["required_approvals"],
        response.json()["version"],
    ) == (True, 2, 4)
    assert list(Event.objects.values_list("verb", "after")) == [
        ("project.updated", {"assignments_need_review": True, "required_approvals": 2})
    ]


def test_a_policy_change_without_if_match_is_a_428_and_changes_nothing(api_client):
    owner = MembershipFactory(role=Role.OWNER, project__slug="curves")
    api_client.force_authenticate(owner.user)

    response = api_client.patch("/api/v1/projects/curves/", {"assignments_need_review": True})

    assert response.status_code == 428
    assert Project.objects.values_list("assignments_need_review", "version").get() == (False, 1)
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "change", [{"name": "Mine"}, {"description": "Mine"}], ids=["name", "description"]
)
def test_a_name_or_description_change_without_if_match_is_a_428_and_changes_nothing(
    api_client, change
):
    owner = MembershipFactory(
        role=Role.OWNER, project__slug="curves", project__name="Curves", project__description=""
    )
    api_client.force_authenticate(owner.user)

    response = api_client.patch("/api/v1/projects/curves/", change)

    assert (response.status_code, response.json()) == (
        428,
        {
            "detail": "This change needs an If-Match header with the ETag you last read.",
            "code": "precondition_required",
            "fields": {"If-Match": ["Required."]},
        },
    )
    assert Project.objects.values_list("name", "description", "version").get() == (
        "Curves",
        "",
        1,
    )
    assert not Event.objects.exists()


def test_a_change_with_a_weak_if_match_is_a_412_and_changes_nothing(api_client):
    owner = MembershipFactory(role=Role.OWNER, project__slug="curves", project__name="Curves")
    api_client.force_authenticate(owner.user)

    response = api_client.patch("/api/v1/projects/curves/", {"name": "Mine"}, HTTP_IF_MATCH='W/"1"')

    assert (response.status_code, response.json()["code"]) == (412, "version_conflict")
    assert Project.objects.values_list("name", "version").get() == ("Curves", 1)


def test_a_change_with_a_stale_if_match_is_a_412(api_client):
    owner = MembershipFactory(role=Role.OWNER, project__slug="curves", project__version=3)
    api_client.force_authenticate(owner.user)

    response = api_client.patch("/api/v1/projects/curves/", {"name": "Mine"}, HTTP_IF_MATCH='"2"')

    assert (response.status_code, response.json()["fields"]) == (
        412,
        {"current_version": ["3"]},
    )
    assert Project.objects.values_list("version", flat=True).get() == 3


def test_zero_required_approvals_is_a_400(api_client):
    owner = MembershipFactory(role=Role.OWNER, project__slug="curves")
    api_client.force_authenticate(owner.user)

    response = api_client.patch(
        "/api/v1/projects/curves/", {"required_approvals": 0}, HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "required_approvals": ["Ensure this value is greater than or equal to 1."]
    }
