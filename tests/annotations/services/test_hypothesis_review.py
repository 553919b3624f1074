from unittest.mock import ANY

import pytest

from annotations.colors import PALETTE
from annotations.models import (
    Assignment,
    Event,
    Group,
    Hypothesis,
    Notification,
    Project,
    Review,
    Role,
)
from annotations.services.assignments import assignments_apply
from annotations.services.hypotheses import hypothesis_create, hypothesis_revise
from annotations.services.reviews import review_submit
from server.errors import (
    Conflict,
    InvalidTransition,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return ProjectFactory(slug="curves")


@pytest.fixture
def layer(project):
    layer = LayerFactory(network__name="inceptionv1", name="mixed3b", channels=4)
    ProjectNetworkFactory(project=project, network=layer.network)
    return layer


def _member(project, username, role):
    return MembershipFactory(project=project, user__username=username, role=role).user


@pytest.fixture
def ada(project):
    return _member(project, "ada", Role.ANNOTATOR)


@pytest.fixture
def rev(project):
    return _member(project, "rev", Role.REVIEWER)


@pytest.fixture
def curves(project):
    return Group.objects.create(project=project, name="Curves")


@pytest.fixture
def hypothesis(project, layer, ada, curves):
    return hypothesis_create(
        project=project,
        network=layer.network,
        title="Curve detectors",
        units=["mixed3b:1", "mixed3b:2"],
        proposed_group_id=curves.pk,
        actor=ada,
    )


def _review(hypothesis, actor, verdict=Review.Verdict.APPROVE, version=None):
    return review_submit(
        hypothesis=hypothesis,
        expected_version=hypothesis.version if version is None else version,
        verdict=verdict,
        comment="Checked the dataset examples.",
        actor=actor,
    )


def _status(hypothesis):
    return Hypothesis.objects.values_list("status", flat=True).get(pk=hypothesis.pk)


def _assignments():
    return sorted(
        Assignment.objects.values_list(
            "unit__index", "group__name", "source", "hypothesis_id", "assigned_by__username"
        )
    )


def _verbs():
    return list(Event.objects.order_by("id").values_list("verb", flat=True))


def _notifications():
    return sorted(Notification.objects.values_list("recipient__username", "kind", "text"))


def test_an_approval_reaching_the_required_count_accepts_and_applies_the_proposal(hypothesis, rev):
    review = _review(hypothesis, rev)

    hypothesis.refresh_from_db()
    assert (review.verdict, review.version, review.reviewer) == ("approve", 1, rev)
    assert hypothesis.status == "accepted"
    assert hypothesis.accepted_at is not None
    assert hypothesis.version == 1
    assert _assignments() == [
        (1, "Curves", "hypothesis", hypothesis.pk, "ada"),
        (2, "Curves", "hypothesis", hypothesis.pk, "ada"),
    ]
    assert _verbs() == [
        "hypothesis.created",
        "hypothesis.reviewed",
        "unit.assigned",
        "unit.assigned",
        "hypothesis.accepted",
    ]
    accepted = Event.objects.get(verb="hypothesis.accepted")
    assert (accepted.actor, accepted.before, accepted.after) == (
        hypothesis.author,
        {"status": "open"},
        {
            "status": "accepted",
            "group": hypothesis.proposed_group_id,
            "group_name": "Curves",
            "units_changed": 2,
            "approvers": ["rev"],
            "accepted_by": "rev",
        },
    )
    assert _notifications() == [
        ("ada", "hypothesis_accepted", "“Curve detectors” was accepted"),
        ("ada", "review", "rev approved “Curve detectors”"),
    ]


def test_the_units_events_credit_the_author_and_record_the_approvers(hypothesis, rev):
    _review(hypothesis, rev)

    assert list(
        Event.objects.filter(verb="unit.assigned")
        .order_by("target_label")
        .values_list("target_label", "actor__username", "after")
    ) == [
        (
            address,
            "ada",
            {
                "group": hypothesis.proposed_group_id,
                "source": "hypothesis",
                "hypothesis": hypothesis.pk,
                "approvers": ["rev"],
                "change": ANY,
            },
        )
        for address in ("mixed3b:1", "mixed3b:2")
    ]


def test_the_review_event_records_the_verdict_and_version(hypothesis, rev):
    review = _review(hypothesis, rev, Review.Verdict.REQUEST_CHANGES)

    event = Event.objects.get(verb="hypothesis.reviewed")
    assert (event.actor, event.target_type, event.target_id, event.target_label) == (
        rev,
        "hypothesis",
        hypothesis.pk,
        "Curve detectors",
    )
    assert event.after == {"verdict": "request_changes", "version": 1, "review": review.pk}


def test_request_changes_keeps_it_open_and_tells_the_author(hypothesis, rev):
    _review(hypothesis, rev, Review.Verdict.REQUEST_CHANGES)

    assert _status(hypothesis) == "open"
    assert _assignments() == []
    assert _notifications() == [("ada", "review", "rev requested changes on “Curve detectors”")]


def test_a_mention_in_the_review_comment_notifies_that_member(project, hypothesis, rev):
    _member(project, "grace", Role.VIEWER)

    review_submit(
        hypothesis=hypothesis,
        expected_version=hypothesis.version,
        verdict=Review.Verdict.REQUEST_CHANGES,
        comment="@grace @ada @nobody compare unit 2 with the circle units.",
        actor=rev,
    )

    # The author gets the review notification only; a non-member mention notifies nobody.
    assert _notifications() == [
        ("ada", "review", "rev requested changes on “Curve detectors”"),
        ("grace", "mention", "rev mentioned you in a review of “Curve detectors”"),
    ]


def test_reject_rejects_it_and_applies_nothing(hypothesis, rev):
    _review(hypothesis, rev, Review.Verdict.REJECT)

    assert _status(hypothesis) == "rejected"
    assert _assignments() == []
    assert _verbs() == ["hypothesis.created", "hypothesis.reviewed", "hypothesis.rejected"]
    assert _notifications() == [("ada", "review", "rev rejected “Curve detectors”")]


def test_the_author_may_not_review_their_own_hypothesis_whatever_their_role(project, layer, curves):
    owner = _member(project, "olah", Role.OWNER)
    own = hypothesis_create(
        project=project, network=layer.network, title="Mine", units=["mixed3b:0"], actor=owner
    )

    with pytest.raises(PermissionDenied):
        _review(own, owner)

    assert _status(own) == "open"
    assert Review.objects.count() == 0
    assert _verbs() == ["hypothesis.created"]


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.VIEWER])
def test_annotators_and_viewers_may_not_review(project, hypothesis, role):
    member = _member(project, "voss", role)

    with pytest.raises(PermissionDenied) as raised:
        _review(hypothesis, member)

    assert raised.value.detail == "Your role does not allow hypothesis.review."
    assert (_status(hypothesis), Review.objects.count(), _verbs()) == (
        "open",
        0,
        ["hypothesis.created"],
    )


def test_two_required_approvals_need_two_distinct_reviewers(project, hypothesis, rev):
    Project.objects.filter(pk=project.pk).update(required_approvals=2)
    hypothesis.project.refresh_from_db()
    owner = _member(project, "olah", Role.OWNER)

    _review(hypothesis, rev)
    _review(hypothesis, rev)
    assert _status(hypothesis) == "open"

    _review(hypothesis, owner)
    assert _status(hypothesis) == "accepted"
    assert len(_assignments()) == 2


def test_a_later_request_for_changes_takes_back_the_reviewers_approval(project, hypothesis, rev):
    Project.objects.filter(pk=project.pk).update(required_approvals=2)
    hypothesis.project.refresh_from_db()
    owner = _member(project, "olah", Role.OWNER)

    _review(hypothesis, rev)
    _review(hypothesis, rev, Review.Verdict.REQUEST_CHANGES)
    _review(hypothesis, owner)

    assert _status(hypothesis) == "open"


def test_approvals_of_an_earlier_version_no_longer_count(project, hypothesis, ada, rev):
    Project.objects.filter(pk=project.pk).update(required_approvals=2)
    hypothesis.project.refresh_from_db()
    owner = _member(project, "olah", Role.OWNER)
    _review(hypothesis, rev)
    hypothesis = hypothesis_revise(
        hypothesis=hypothesis, expected_version=1, actor=ada, title="Curve detectors, 3b"
    )

    _review(hypothesis, owner)

    assert _status(hypothesis) == "open"
    _review(hypothesis, rev)
    assert _status(hypothesis) == "accepted"


def test_acceptance_is_refused_when_a_unit_moved_since_it_was_written(
    project, hypothesis, rev, curves
):
    edges = Group.objects.create(project=project, name="Edges")
    unit = hypothesis.units.get(unit__index=2).unit
    assignments_apply(project=project, changes=[(unit, edges)], actor=None)
    events_before = _verbs()

    with pytest.raises(Conflict) as raised:
        _review(hypothesis, rev)

    assert raised.value.code == "assignment_conflict"
    assert raised.value.fields == {"units": ["mixed3b:2"]}
    assert raised.value.detail == (
        "The hypothesis cannot be accepted as written, so the approval was not recorded and "
        "the hypothesis stays open for its author to revise. These units changed group since "
        "the hypothesis was written: mixed3b:2"
    )
    assert _status(hypothesis) == "open"
    assert _assignments() == [(2, "Edges", "direct", None, None)]
    assert Review.objects.count() == 0
    assert _verbs() == events_before
    assert _notifications() == []


def test_a_proposed_new_group_is_created_on_acceptance_only(project, layer, ada, rev, curves):
    hypothesis = hypothesis_create(
        project=project,
        network=layer.network,
        title="Curve family",
        units=["mixed3b:0"],
        new_group={"name": "Small curves", "parent": curves.pk, "color": "#1f77b4"},
        actor=ada,
    )
    assert list(Group.objects.values_list("name", flat=True)) == ["Curves"]

    _review(hypothesis, rev)

    created = Group.objects.get(name="Small curves")
    assert (created.parent, created.color, created.created_by) == (curves, "#1f77b4", rev)
    hypothesis.refresh_from_db()
    assert hypothesis.proposed_group_id == created.pk
    assert _assignments() == [(0, "Small curves", "hypothesis", hypothesis.pk, "ada")]
    assert _verbs() == [
        "hypothesis.created",
        "hypothesis.reviewed",
        "group.created",
        "unit.assigned",
        "hypothesis.accepted",
    ]


def test_new_groups_proposed_without_a_colour_get_distinct_palette_colours(
    project, layer, ada, rev, curves
):
    hypotheses = [
        hypothesis_create(
            project=project,
            network=layer.network,
            title=f"Family {index}",
            units=[f"mixed3b:{index}"],
            new_group={"name": f"Family {index}"},
            actor=ada,
        )
        for index in (0, 1)
    ]

    for hypothesis in hypotheses:
        _review(hypothesis, rev)

    colors = [Group.objects.get(name=f"Family {index}").color for index in (0, 1)]
    assert colors == [PALETTE[0], PALETTE[1]]
    assert curves.color not in colors


def test_a_new_group_whose_name_was_taken_meanwhile_is_a_conflict(project, layer, ada, rev):
    hypothesis = hypothesis_create(
        project=project,
        network=layer.network,
        title="Curve family",
        units=["mixed3b:0"],
        new_group={"name": "Small curves"},
        actor=ada,
    )
    Group.objects.create(project=project, name="Small curves")

    with pytest.raises(Conflict) as raised:
        _review(hypothesis, rev)

    assert raised.value.code == "name_taken"
    assert (_status(hypothesis), Review.objects.count(), _assignments()) == ("open", 0, [])


def test_a_proposed_group_deleted_meanwhile_is_a_conflict(hypothesis, rev, curves):
    curves.delete()

    with pytest.raises(Conflict) as raised:
        _review(hypothesis, rev)

    assert raised.value.code == "group_missing"
    assert (_status(hypothesis), Review.objects.count()) == ("open", 0)


def test_a_second_approval_read_before_the_acceptance_cannot_accept_twice(project, hypothesis, rev):
    owner = _member(project, "olah", Role.OWNER)
    _review(hypothesis, rev)

    # ``hypothesis`` still reads "open": the owner approves what they loaded earlier.
    with pytest.raises(InvalidTransition) as raised:
        _review(hypothesis, owner)

    assert raised.value.detail == (
        "This hypothesis is accepted; only an open hypothesis can be reviewed."
    )
    assert Review.objects.count() == 1
    assert _verbs().count("hypothesis.accepted") == 1
    assert _verbs().count("unit.assigned") == 2


def test_reviewing_a_version_that_was_since_revised_is_stale(hypothesis, ada, rev):
    hypothesis_revise(hypothesis=hypothesis, expected_version=1, actor=ada, text="Revised.")

    with pytest.raises(VersionConflict) as raised:
        _review(hypothesis, rev, version=1)

    assert raised.value.fields == {"current_version": ["2"]}
    assert Review.objects.count() == 0


def test_an_unknown_verdict_is_refused(hypothesis, rev):
    with pytest.raises(ValidationFailed) as raised:
        _review(hypothesis, rev, "maybe")

    assert raised.value.fields == {"verdict": ["Choose one of: approve, request_changes, reject."]}
    assert Review.objects.count() == 0
