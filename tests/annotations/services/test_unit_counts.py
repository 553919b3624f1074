import random

import pytest
from django.db import transaction

from annotations.models import Comment, Hypothesis, Role, UnitCounts
from annotations.services.comments import comment_delete, comment_post
from annotations.services.hypotheses import (
    hypothesis_create,
    hypothesis_revise,
    hypothesis_withdraw,
)
from annotations.services.reviews import review_submit
from annotations.services.unit_counts import (
    CountsOutOfStep,
    unit_counts_add,
    unit_counts_counted,
    unit_counts_rebuild,
)
from server.errors import DomainError
from tests.factories.annotations import (
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db

STEPS = 250


def stored(project):
    """What ``UnitCounts`` holds for the project, in the shape of ``unit_counts_counted``."""
    return {
        row.unit_id: {"comments": row.comments, "open_hypotheses": row.open_hypotheses}
        for row in UnitCounts.objects.filter(project=project)
        if row.comments or row.open_hypotheses
    }


class Team:
    """A project on a shared layer with two annotators and two reviewers."""

    def __init__(self, layer, slug):
        self.project = ProjectFactory(slug=slug)
        ProjectNetworkFactory(project=self.project, network=layer.network)
        self.layer = layer
        self.annotators = [self._member(Role.ANNOTATOR) for _ in range(2)]
        self.reviewers = [self._member(Role.REVIEWER) for _ in range(2)]

    def _member(self, role):
        user = UserFactory()
        MembershipFactory(project=self.project, user=user, role=role)
        return user

    def comments(self):
        return list(Comment.objects.filter(project=self.project, deleted_at__isnull=True))

    def open_hypotheses(self):
        return list(Hypothesis.objects.filter(project=self.project, status="open"))

    def addresses(self, rng):
        indices = rng.sample(range(self.layer.channels), rng.randint(1, 4))
        return [f"{self.layer.name}:{index}" for index in indices]


def comment_on_a_unit(team, rng):
    target = team.layer.units.get(index=rng.randrange(team.layer.channels))
    on_target = [c for c in team.comments() if c.target_type == "unit" and c.target_id == target.pk]
    comment_post(
        project=team.project,
        target_type="unit",
        target_id=target.pk,
        body="A curve?",
        parent=rng.choice(on_target) if on_target and rng.random() < 0.5 else None,
        actor=rng.choice(team.annotators),
    )


def comment_on_a_hypothesis(team, rng):
    hypotheses = list(Hypothesis.objects.filter(project=team.project))
    if hypotheses:
        comment_post(
            project=team.project,
            target_type="hypothesis",
            target_id=rng.choice(hypotheses).pk,
            body="Not counted in the grid.",
            actor=rng.choice(team.annotators),
        )


def delete_a_comment(team, rng):
    comments = team.comments()
    if comments:
        comment = rng.choice(comments)
        comment_delete(comment=comment, expected_version=comment.version, actor=comment.author)


def propose(team, rng):
    hypothesis_create(
        project=team.project,
        network=team.layer.network,
        title="Curves",
        units=team.addresses(rng),
        actor=rng.choice(team.annotators),
    )


def revise_the_units(team, rng):
    hypotheses = team.open_hypotheses()
    if hypotheses:
        hypothesis = rng.choice(hypotheses)
        hypothesis_revise(
            hypothesis=hypothesis,
            expected_version=hypothesis.version,
            units=team.addresses(rng),
            actor=hypothesis.author,
        )


def withdraw(team, rng):
    hypotheses = team.open_hypotheses()
    if hypotheses:
        hypothesis = rng.choice(hypotheses)
        hypothesis_withdraw(
            hypothesis=hypothesis, expected_version=hypothesis.version, actor=hypothesis.author
        )


def review(team, rng):
    hypotheses = team.open_hypotheses()
    if hypotheses:
        hypothesis = rng.choice(hypotheses)
        review_submit(
            hypothesis=hypothesis,
            expected_version=hypothesis.version,
            verdict=rng.choice(["approve", "reject", "request_changes"]),
            actor=rng.choice(team.reviewers),
        )


def refused_withdrawal(team, rng):
    """A stale write is refused and must leave the counts as they were."""
    hypotheses = team.open_hypotheses()
    if hypotheses:
        hypothesis = rng.choice(hypotheses)
        hypothesis_withdraw(
            hypothesis=hypothesis,
            expected_version=hypothesis.version + 1,
            actor=hypothesis.author,
        )


OPERATIONS = [
    comment_on_a_unit,
    comment_on_a_unit,
    comment_on_a_hypothesis,
    delete_a_comment,
    propose,
    propose,
    revise_the_units,
    withdraw,
    review,
    refused_withdrawal,
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_equal_a_recount_after_every_one_of_many_random_changes(seed):
    rng = random.Random(seed)
    layer = LayerFactory(name="mixed3b", channels=6)
    teams = [Team(layer, "early-vision"), Team(layer, "curves")]
    refused = 0

    for _ in range(STEPS):
        team = rng.choice(teams)
        operation = rng.choice(OPERATIONS)
        try:
            with transaction.atomic():
                operation(team, rng)
        except DomainError:
            refused += 1
        for each in teams:
            assert stored(each.project) == unit_counts_counted(project_id=each.project.pk)

    # The sequence reached every kind of count and change it is meant to exercise.
    assert refused > 0
    assert Hypothesis.objects.filter(status="accepted").exists()
    assert Hypothesis.objects.filter(status="rejected").exists()
    assert Hypothesis.objects.filter(status="withdrawn").exists()
    assert Comment.objects.filter(target_type="unit", deleted_at__isnull=False).exists()
    assert any(stored(team.project) for team in teams)


def test_the_counts_of_a_project_are_its_own():
    layer = LayerFactory(name="mixed3b", channels=2)
    first, second = Team(layer, "early-vision"), Team(layer, "curves")
    unit = layer.units.get(index=1)

    comment_post(
        project=first.project,
        target_type="unit",
        target_id=unit.pk,
        body="Curve.",
        actor=first.annotators[0],
    )

    assert stored(first.project) == {unit.pk: {"comments": 1, "open_hypotheses": 0}}
    assert stored(second.project) == {}


def test_taking_from_a_count_never_added_fails_and_changes_nothing():
    layer = LayerFactory(name="mixed3b", channels=2)
    team = Team(layer, "early-vision")
    counted, uncounted = layer.units.order_by("index")
    unit_counts_add(project_id=team.project.pk, unit_ids=[counted.pk], comments=1)

    with pytest.raises(CountsOutOfStep), transaction.atomic():
        unit_counts_add(
            project_id=team.project.pk, unit_ids=[counted.pk, uncounted.pk], comments=-1
        )

    assert stored(team.project) == {counted.pk: {"comments": 1, "open_hypotheses": 0}}


def test_a_rebuild_recounts_rows_written_around_the_services():
    layer = LayerFactory(name="mixed3b", channels=3)
    team = Team(layer, "early-vision")
    unit = layer.units.get(index=2)
    Comment.objects.bulk_create(
        Comment(project=team.project, target_type="unit", target_id=unit.pk, body_html="")
        for _ in range(3)
    )
    assert stored(team.project) == {}

    unit_counts_rebuild(project_id=team.project.pk)

    assert stored(team.project) == {unit.pk: {"comments": 3, "open_hypotheses": 0}}
