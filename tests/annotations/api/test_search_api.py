import pytest

from annotations.models import Role
from tests.factories.annotations import (
    AssignmentFactory,
    CircuitFactory,
    CommentFactory,
    GroupFactory,
    HypothesisFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/projects/early-vision/search/"


@pytest.fixture
def project():
    return ProjectFactory(slug="early-vision")


@pytest.fixture
def member(api_client, project):
    user = UserFactory()
    MembershipFactory(project=project, user=user, role=Role.VIEWER)
    api_client.force_authenticate(user)
    return api_client


def test_search_finds_groups_hypotheses_and_comments(member, project):
    group = GroupFactory(project=project, name="Curve detectors", description="Oriented arcs.")
    hypothesis = HypothesisFactory(project=project, title="Curves respond to radius")
    comment = CommentFactory(project=project, body="This curve unit also likes circles.")
    GroupFactory(project=project, name="Color contrast")

    body = member.get(SEARCH, {"q": "curve"}).json()

    assert [hit["id"] for hit in body["groups"]] == [group.pk]
    assert [hit["id"] for hit in body["hypotheses"]] == [hypothesis.pk]
    assert [hit["id"] for hit in body["comments"]] == [comment.pk]


def test_search_finds_a_unit_by_its_note_and_a_circuit_by_its_name(member, project):
    group = GroupFactory(project=project, name="Rims")
    assignment = AssignmentFactory(group=group, note="Likes the rim of a teacup.")
    circuit = CircuitFactory(project=project, name="Teacup circuit")

    body = member.get(SEARCH, {"q": "teacup"}).json()

    assert body["units"] == [
        {
            "network": assignment.unit.layer.network.name,
            "unit": str(assignment.unit.address),
            "group": {"id": group.pk, "name": "Rims"},
            "note": "Likes the rim of a teacup.",
        }
    ]
    assert body["circuits"] == [
        {"id": circuit.pk, "name": "Teacup circuit", "network": circuit.network.name}
    ]


def test_search_never_crosses_projects(member, project):
    GroupFactory(project=ProjectFactory(), name="Curve detectors")

    body = member.get(SEARCH, {"q": "curve"}).json()

    assert body == {"groups": [], "hypotheses": [], "comments": [], "units": [], "circuits": []}


def test_a_one_letter_query_is_refused(member):
    response = member.get(SEARCH, {"q": "c"})

    assert response.status_code == 400
    assert "q" in response.json()["fields"]
