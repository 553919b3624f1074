"""Every taxonomy, assignment and history endpoint against every kind of caller.

Non-members get the very 404 a missing project gives; members whose role lacks the action get
403; anonymous callers get 401. A refused write changes no group, no assignment and writes no
event.
"""

import pytest
from rest_framework.test import APIClient

from annotations.models import Assignment, Event, Group, Project, Role
from tests.factories.annotations import (
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db

PROJECT = "/api/v1/projects/{slug}"
ENDPOINTS = {
    "groups.list": ("get", "/groups/", None),
    "groups.tree": ("get", "/groups/tree/", None),
    "groups.create": ("post", "/groups/", {"name": "Lines"}),
    "group.retrieve": ("get", "/groups/{group}/", None),
    "group.update": ("patch", "/groups/{group}/", {"name": "Renamed"}),
    "group.move": ("post", "/groups/{group}/move/", {"parent": "{into}"}),
    "group.merge": ("post", "/groups/{group}/merge/", {"into": "{into}"}),
    "group.delete": ("delete", "/groups/{group}/", None),
    "group.units": ("get", "/groups/{group}/units/", None),
    "unit.group": ("put", "/units/inception/mixed3b:1/group/", {"group": "{group}"}),
    "assignments": (
        "post",
        "/assignments/",
        {"network": "inception", "units": ["mixed3b:0", "mixed3b:1"], "group": "{group}"},
    ),
    "events": ("get", "/events/", None),
    "history": ("get", "/history/group/{group}/", None),
}
READS = ["groups.list", "groups.tree", "group.retrieve", "group.units", "events", "history"]
WRITES = [endpoint for endpoint in ENDPOINTS if endpoint not in READS]
ASSIGNMENTS = ["unit.group", "assignments"]

REVIEWER = {
    **dict.fromkeys(READS, 200),
    **dict.fromkeys(WRITES, 200),
    "groups.create": 201,
    "group.delete": 204,
}
EXPECTED_STATUS = {
    "owner": REVIEWER,
    "reviewer": REVIEWER,
    "annotator": {
        **dict.fromkeys(READS, 200),
        **dict.fromkeys(WRITES, 403),
        "groups.create": 201,
        "unit.group": 200,
        "assignments": 200,
    },
    "viewer": {**dict.fromkeys(READS, 200), **dict.fromkeys(WRITES, 403)},
    "non-member": dict.fromkeys(ENDPOINTS, 404),
    "anonymous": dict.fromkeys(ENDPOINTS, 401),
}

REFUSED_WRITES = [
    (caller, endpoint)
    for caller, statuses in EXPECTED_STATUS.items()
    for endpoint in WRITES
    if statuses[endpoint] >= 400
]


@pytest.fixture
def project():
    project = ProjectFactory(slug="curves")
    network = ProjectNetworkFactory(project=project, network__name="inception").network
    LayerFactory(network=network, name="mixed3b")
    return project


@pytest.fixture
def groups(project):
    return {
        "group": GroupFactory(project=project, name="Curves"),
        "into": GroupFactory(project=project, name="Curve detectors"),
    }


def _client_as(caller, project):
    client = APIClient()
    if caller == "non-member":
        client.force_authenticate(UserFactory())
    if caller in Role.values:
        client.force_authenticate(MembershipFactory(project=project, role=caller).user)
    return client


def _fill(value, ids):
    if isinstance(value, str) and value in ("{group}", "{into}"):
        return ids[value.strip("{}")]
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


def _call(client, endpoint, slug, groups):
    method, path, body = ENDPOINTS[endpoint]
    ids = {name: group.pk for name, group in groups.items()}
    url = PROJECT.format(slug=slug) + path.format(**ids)
    return getattr(client, method)(url, _fill(body, ids), HTTP_IF_MATCH='"1"')


def _state():
    return (
        sorted(Group.objects.values_list("pk", "name", "parent", "version")),
        sorted(Assignment.objects.values_list("unit", "group")),
        Event.objects.count(),
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("caller", EXPECTED_STATUS)
def test_status_by_caller_and_endpoint(project, groups, caller, endpoint):
    client = _client_as(caller, project)

    response = _call(client, endpoint, project.slug, groups)

    assert response.status_code == EXPECTED_STATUS[caller][endpoint]


@pytest.mark.parametrize(("caller", "endpoint"), REFUSED_WRITES)
def test_refused_write_changes_nothing_and_writes_no_event(project, groups, caller, endpoint):
    client = _client_as(caller, project)
    before = _state()

    _call(client, endpoint, project.slug, groups)

    assert _state() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_non_member_gets_the_same_404_as_for_a_missing_project(project, groups, endpoint):
    client = _client_as("non-member", project)

    forbidden = _call(client, endpoint, project.slug, groups)
    missing = _call(client, endpoint, "no-such-project", groups)

    assert (forbidden.status_code, forbidden.json()) == (missing.status_code, missing.json())
    assert forbidden.json() == {"detail": "Project not found.", "code": "not_found", "fields": {}}


@pytest.mark.parametrize("endpoint", ASSIGNMENTS)
@pytest.mark.parametrize(
    ("caller", "code"),
    [
        ("reviewer", "hypothesis_required"),
        ("annotator", "hypothesis_required"),
        ("viewer", "permission_denied"),
    ],
)
def test_when_assignments_need_review_others_than_owners_are_refused(
    project, groups, endpoint, caller, code
):
    Project.objects.update(assignments_need_review=True)
    client = _client_as(caller, project)
    before = _state()

    response = _call(client, endpoint, project.slug, groups)

    assert (response.status_code, response.json()["code"]) == (403, code)
    assert _state() == before


@pytest.mark.parametrize("endpoint", ASSIGNMENTS)
def test_when_assignments_need_review_owners_still_assign_directly(project, groups, endpoint):
    Project.objects.update(assignments_need_review=True)
    client = _client_as("owner", project)

    response = _call(client, endpoint, project.slug, groups)

    assert response.status_code == 200
    assert Assignment.objects.filter(group=groups["group"]).exists()
