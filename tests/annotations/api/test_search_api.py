import pytest
from django.db import connection

from annotations.models import Comment, Role
from annotations.selectors import search
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
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="ranking and stemming are PostgreSQL's"
)


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


def test_search_draws_its_hits_from_the_newest_matches_only(member, project, monkeypatch):
    monkeypatch.setattr(search, "CANDIDATES", 2)
    # The oldest match would rank best on PostgreSQL: the bound leaves it out all the same.
    CommentFactory(project=project, body="Curve, curve, curve: the curve of all curves.")
    newer = [CommentFactory(project=project, body=f"A curve, reading {n}.") for n in (1, 2)]

    body = member.get(SEARCH, {"q": "curve"}).json()

    assert sorted(hit["id"] for hit in body["comments"]) == [comment.pk for comment in newer]


def test_search_finds_an_edited_comment_by_its_new_words_only(member, project):
    comment = CommentFactory(project=project, body="A teacup rim.")
    Comment.objects.filter(pk=comment.pk).update(body="A saucer rim.")

    assert member.get(SEARCH, {"q": "teacup"}).json()["comments"] == []
    assert [hit["id"] for hit in member.get(SEARCH, {"q": "saucer"}).json()["comments"]] == [
        comment.pk
    ]


def test_search_leaves_out_deleted_comments(member, project):
    CommentFactory(project=project, body="", deleted_at="2026-12-01T00:00:00Z")
    CommentFactory(project=project, body="A teacup.", deleted_at="2026-12-01T00:00:00Z")

    assert member.get(SEARCH, {"q": "teacup"}).json()["comments"] == []


@postgresql_only
def test_search_ranks_the_best_match_first_and_stems_words(member, project):
    strong = CommentFactory(project=project, body="Curves: curved curves, the curve of curves.")
    weak = CommentFactory(project=project, body="One curve among many other words here.")
    CommentFactory(project=project, body="Nothing to see.")

    body = member.get(SEARCH, {"q": "curves"}).json()

    assert [hit["id"] for hit in body["comments"]] == [strong.pk, weak.pk]
