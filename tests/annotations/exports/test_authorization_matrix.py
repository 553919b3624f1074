"""Every export, import and release endpoint against every kind of caller: members download,
reviewers and owners import, owners release; non-members get the 404 of a missing project,
members whose role lacks the action 403, anonymous callers 401. A refused write changes
nothing and writes no event."""

import pytest
from rest_framework.test import APIClient

from annotations.models import Assignment, Event, Group, Release, Role
from annotations.services.releases import release_create
from tests.factories.annotations import (
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db

PROJECT = "/api/v1/projects/{slug}"
IMPORT = {"network": "inception", "format": "csv", "content": "layer,unit,group\nmixed3b,1,Lines\n"}
ENDPOINTS = {
    "export.json": ("get", "/exports/json/", None),
    "export.csv": ("get", "/exports/csv/", None),
    "export.html": ("get", "/exports/html/", None),
    "import": ("post", "/imports/", IMPORT),
    "import.dry_run": ("post", "/imports/", {**IMPORT, "dry_run": True}),
    "releases.list": ("get", "/releases/", None),
    "releases.create": ("post", "/releases/", {"name": "v3"}),
    "release.retrieve": ("get", "/releases/v2/", None),
    "release.export": ("get", "/releases/v1/exports/csv/", None),
    "release.diff": ("get", "/releases/v2/diff/", None),
}
WRITES = ["import", "import.dry_run", "releases.create"]
READS = [endpoint for endpoint in ENDPOINTS if endpoint not in WRITES]

EXPECTED_STATUS = {
    "owner": {**dict.fromkeys(ENDPOINTS, 200), "releases.create": 201},
    "reviewer": {**dict.fromkeys(ENDPOINTS, 200), "releases.create": 403},
    "annotator": {**dict.fromkeys(READS, 200), **dict.fromkeys(WRITES, 403)},
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
    release_create(project=project, actor=None, name="v1")
    release_create(project=project, actor=None, name="v2")
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
    return getattr(client, method)(PROJECT.format(slug=slug) + path, body, format="json")


def _state():
    return (
        sorted(Group.objects.values_list("pk", "name", "version")),
        sorted(Assignment.objects.values_list("unit", "group")),
        sorted(Release.objects.values_list("name", flat=True)),
        Event.objects.count(),
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("caller", EXPECTED_STATUS)
def test_status_by_caller_and_endpoint(project, caller, endpoint):
    client = _client_as(caller, project)

    response = _call(client, endpoint, project.slug)

    assert response.status_code == EXPECTED_STATUS[caller][endpoint]


@pytest.mark.parametrize(("caller", "endpoint"), REFUSED_WRITES)
def test_refused_write_changes_nothing_and_writes_no_event(project, caller, endpoint):
    client = _client_as(caller, project)
    before = _state()

    _call(client, endpoint, project.slug)

    assert _state() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_non_member_gets_the_same_404_as_for_a_missing_project(project, endpoint):
    client = _client_as("non-member", project)

    forbidden = _call(client, endpoint, project.slug)
    missing = _call(client, endpoint, "no-such-project")

    assert (forbidden.status_code, forbidden.json()) == (missing.status_code, missing.json())
    assert forbidden.json() == {"detail": "Project not found.", "code": "not_found", "fields": {}}
