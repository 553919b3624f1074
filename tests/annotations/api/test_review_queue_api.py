import pytest
from rest_framework.test import APIClient

from annotations.models import Role
from tests.factories.annotations import (
    HypothesisFactory,
    HypothesisUnitFactory,
    MembershipFactory,
    ProjectFactory,
    ReviewFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db

QUEUE = "/api/v1/projects/curves/review-queue/"


@pytest.fixture
def project():
    return ProjectFactory(slug="curves")


@pytest.fixture
def rev(project):
    return MembershipFactory(project=project, user__username="rev", role=Role.REVIEWER).user


def _ids(user, url=QUEUE):
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(url)
    assert response.status_code == 200
    return [row["id"] for row in response.json()["results"]]


def test_the_queue_holds_open_hypotheses_of_others_not_yet_reviewed_oldest_first(project, rev):
    older = HypothesisFactory(project=project)
    newer = HypothesisFactory(project=project)
    HypothesisFactory(project=project, author=rev)
    HypothesisFactory(project=project, status="accepted")
    reviewed = HypothesisFactory(project=project)
    ReviewFactory(hypothesis=reviewed, reviewer=rev, verdict="request_changes")

    assert _ids(rev) == [older.pk, newer.pk]


def test_a_revision_puts_a_reviewed_hypothesis_back_in_the_queue(project, rev):
    revised = HypothesisFactory(project=project, version=2)
    ReviewFactory(hypothesis=revised, reviewer=rev, version=1)

    assert _ids(rev) == [revised.pk]


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.VIEWER])
def test_members_who_may_not_review_have_an_empty_queue(project, role):
    member = MembershipFactory(project=project, role=role).user
    HypothesisFactory(project=project)

    assert _ids(member) == []


def test_a_superuser_reviews_any_project_without_being_a_member(project):
    admin = UserFactory(is_superuser=True)
    waiting = HypothesisFactory(project=project)
    HypothesisFactory(project=ProjectFactory())

    assert _ids(admin) == [waiting.pk]


def test_the_queue_lists_each_hypothesis_units_by_address(project, rev):
    hypothesis = HypothesisFactory(project=project)
    for name, index in (("mixed3b", 7), ("mixed3a", 3)):
        unit = LayerFactory(name=name, channels=8).units.get(index=index)
        HypothesisUnitFactory(hypothesis=hypothesis, unit=unit)
    client = APIClient()
    client.force_authenticate(rev)

    row = client.get(QUEUE).json()["results"][0]

    assert sorted(row["units"]) == ["mixed3a:3", "mixed3b:7"]


def test_the_queue_across_projects_covers_those_where_i_review(project, rev):
    mine = HypothesisFactory(project=project)
    owned = MembershipFactory(user=rev, role=Role.OWNER).project
    theirs = HypothesisFactory(project=owned)
    annotated = MembershipFactory(user=rev, role=Role.ANNOTATOR).project
    HypothesisFactory(project=annotated)
    HypothesisFactory()

    assert _ids(rev, "/api/v1/review-queue/") == [mine.pk, theirs.pk]


def test_the_queue_costs_the_same_queries_for_many_hypotheses(
    project, rev, django_assert_num_queries
):
    for _ in range(4):
        HypothesisUnitFactory(hypothesis=HypothesisFactory(project=project))
    client = APIClient()
    client.force_authenticate(rev)

    # the project with the role, the page's ids with the count (the reviewer's role checked
    # there), the page's hypotheses, their units
    with django_assert_num_queries(4):
        response = client.get(QUEUE)

    assert response.json()["count"] == 4


def test_the_queue_across_projects_costs_the_same_queries_for_many_hypotheses(
    project, rev, django_assert_num_queries
):
    for _ in range(4):
        HypothesisUnitFactory(hypothesis=HypothesisFactory(project=project))
    client = APIClient()
    client.force_authenticate(rev)

    # the page's ids with the count, its hypotheses, their units
    with django_assert_num_queries(3):
        response = client.get("/api/v1/review-queue/")

    assert response.json()["count"] == 4
