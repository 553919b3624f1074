"""Every project endpoint against every kind of caller.

Non-members get the very 404 a missing project gives; members whose role lacks the action get
403; anonymous callers get 401. A refused write leaves the project and its members untouched.
"""

import pytest
from rest_framework.test import APIClient

from annotations.models import Membership, Project, Role
from tests.factories.annotations import (
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "project.retrieve": ("get", "/api/v1/projects/{slug}/", None),
    "project.update": ("patch", "/api/v1/projects/{slug}/", {"name": "Renamed"}),
    "members.list": ("get", "/api/v1/projects/{slug}/members/", None),
    "members.add": (
        "post",
        "/api/v1/projects/{slug}/members/",
        {"username": "newcomer", "role": "viewer"},
    ),
    "members.change_role": (
        "patch",
        "/api/v1/projects/{slug}/members/target/",
        {"role": "annotator"},
    ),
    "members.remove": ("delete", "/api/v1/projects/{slug}/members/target/", None),
    "networks.list": ("get", "/api/v1/projects/{slug}/networks/", None),
}
WRITES = ["project.update", "members.add", "members.change_role", "members.remove"]

READ_ONLY = {
    "project.retrieve": 200,
    "project.update": 403,
    "members.list": 200,
    "members.add": 403,
    "members.change_role": 403,
    "members.remove": 403,
    "networks.list": 200,
}
EXPECTED_STATUS = {
    "owner": {
        "project.retrieve": 200,
        "project.update": 200,
        "members.list": 200,
        "members.add": 201,
        "members.change_role": 200,
        "members.remove": 204,
        "networks.list": 200,
    },
    "reviewer": READ_ONLY,
    "annotator": READ_ONLY,
    "viewer": READ_ONLY,
    "non-member": dict.fromkeys(ENDPOINTS, 404),
    "anonymous": dict.fromkeys(ENDPOINTS, 401),
}


@pytest.fixture
def project():
    project = ProjectFactory(slug="curves", name="Curves")
    MembershipFactory(project=project, user__username="target", role=Role.VIEWER)
    ProjectNetworkFactory(project=project)
    UserFactory(username="newcomer")
    return project


def _client_as(caller, project):
    client = APIClient()
    if caller == "non-member":
        client.force_authenticate(UserFactory())
    if caller in Role.values:
        client.force_authenticate(MembershipFactory(project=project, role=caller).user)
    return client


def _call(client, endpoint, slug):
    method, path, body = ENDPOINTS[endpoint]
    # Every project change needs If-Match; the other endpoints ignore it.
    return getattr(client, method)(path.format(slug=slug), body, HTTP_IF_MATCH='"1"')


def _state(project):
    return (
        Project.objects.filter(pk=project.pk).values_list("name", "version").get(),
        sorted(Membership.objects.values_list("user__username", "role")),
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("caller", EXPECTED_STATUS)
def test_status_by_caller_and_endpoint(project, caller, endpoint):
    client = _client_as(caller, project)

    response = _call(client, endpoint, project.slug)

    assert response.status_code == EXPECTED_STATUS[caller][endpoint]


@pytest.mark.parametrize("endpoint", WRITES)
@pytest.mark.parametrize("caller", ["reviewer", "annotator", "viewer", "non-member", "anonymous"])
def test_refused_write_changes_nothing(project, caller, endpoint):
    client = _client_as(caller, project)
    before = _state(project)

    _call(client, endpoint, project.slug)

    assert _state(project) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_non_member_gets_the_same_404_as_for_a_missing_project(project, endpoint):
    client = _client_as("non-member", project)

    forbidden = _call(client, endpoint, project.slug)
    missing = _call(client, endpoint, "no-such-project")

    assert (forbidden.status_code, forbidden.json()) == (missing.status_code, missing.json())
    assert forbidden.json() == {"detail": "Project not found.", "code": "not_found", "fields": {}}


@pytest.mark.parametrize("endpoint", WRITES)
@pytest.mark.parametrize("caller", ["reviewer", "annotator", "viewer"])
def test_member_without_the_role_gets_permission_denied(project, caller, endpoint):
    client = _client_as(caller, project)

    response = _call(client, endpoint, project.slug)

    assert response.json()["code"] == "permission_denied"


def test_superuser_who_is_not_a_member_may_write():
    project = ProjectFactory(slug="curves", name="Curves")
    client = APIClient()
    client.force_authenticate(UserFactory(is_superuser=True))

    response = client.patch("/api/v1/projects/curves/", {"name": "Renamed"}, HTTP_IF_MATCH='"1"')

    assert (response.status_code, response.json()["role"]) == (200, None)
    assert Project.objects.values_list("name", flat=True).get(pk=project.pk) == "Renamed"
