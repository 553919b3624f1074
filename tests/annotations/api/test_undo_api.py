"""The undo endpoint: your last undoable change (GET) and undoing one (POST)."""

import pytest
from rest_framework.test import APIClient

from annotations.models import Assignment, Group, Role
from tests.factories.annotations import GroupFactory, MembershipFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db

UNDO = "/api/v1/projects/curves/undo/"


@pytest.fixture
def members():
    owner = MembershipFactory(role=Role.OWNER, project__slug="curves", user__username="olah")
    project = owner.project
    ProjectNetworkFactory(
        project=project, network=LayerFactory(name="mixed3b", network__name="inception").network
    )
    annotator = MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="ada")
    GroupFactory(project=project, name="Curves")
    return owner.user, annotator.user


def _as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _assign(user, units):
    response = _as(user).post(
        "/api/v1/projects/curves/assignments/",
        {"network": "inception", "units": units, "group": Group.objects.get(name="Curves").pk},
        format="json",
    )
    assert response.status_code == 200, response.json()


def test_the_last_change_is_offered_and_undone(members):
    _, ada = members
    _assign(ada, ["mixed3b:0", "mixed3b:1"])
    client = _as(ada)

    offered = client.get(UNDO).json()["change"]
    undone = client.post(UNDO, {"event": offered["event"]}, format="json")

    assert (offered["summary"], sorted(offered["units"])) == (
        "put 2 units into Curves",
        ["mixed3b:0", "mixed3b:1"],
    )
    assert (undone.status_code, undone.json()) == (
        200,
        {"undone": offered["event"], "units_changed": 2, "group": None},
    )
    assert not Assignment.objects.exists()
    assert client.get(UNDO).json() == {"change": None}


def test_undoing_someone_elses_change_is_a_403(members):
    olah, ada = members
    _assign(ada, ["mixed3b:0"])
    event = _as(ada).get(UNDO).json()["change"]["event"]

    response = _as(olah).post(UNDO, {"event": event}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "not_your_change")
    assert Assignment.objects.count() == 1


def test_units_moved_since_give_a_409_naming_them(members):
    olah, ada = members
    _assign(ada, ["mixed3b:0", "mixed3b:1"])
    event = _as(ada).get(UNDO).json()["change"]["event"]
    moved = _as(olah).put(
        "/api/v1/projects/curves/units/inception/mixed3b:1/group/", {"group": None}, format="json"
    )
    assert moved.status_code == 200

    response = _as(ada).post(UNDO, {"event": event}, format="json")

    assert (response.status_code, response.json()["code"], response.json()["fields"]) == (
        409,
        "undo_conflict",
        {"units": ["mixed3b:1"]},
    )


def test_an_event_of_another_project_is_a_404(members):
    _, ada = members

    response = _as(ada).post(UNDO, {"event": 10**9}, format="json")

    assert response.status_code == 404
