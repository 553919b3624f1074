"""Reviewing hypotheses: approve, request changes or reject; enough approvals accept.

An accepted hypothesis is its author's work: its units' assignments (their events, and the
``assigned_by`` the CSV export writes as ``changed_by``) and the ``hypothesis.accepted`` event
name the author as actor, and record the approvers in ``after``. The activity feed shows the
acceptance as that one event (``selectors.events.feed_of`` folds the units' events into it).

Acceptance applies the hypothesis' proposal through ``assignments_apply`` in the reviewer's
transaction: if a unit's group changed since the hypothesis was written or revised, nothing is
applied, the approval is not recorded and the hypothesis stays open (409
``assignment_conflict``), so the author can revise it against the taxonomy as it now is.
"""

from django.db import transaction
from django.utils import timezone

from annotations.models import (
    Assignment,
    Group,
    Hypothesis,
    HypothesisUnit,
    Notification,
    Project,
    Review,
    Webhook,
)
from annotations.policies import authorize
from annotations.selectors.hypotheses import approvals_count
from annotations.services.assignments import assignments_apply
from annotations.services.comments import mentioned_members
from annotations.services.events import event_log
from annotations.services.grid_changes import project_changed
from annotations.services.groups import group_create
from annotations.services.hypotheses import open_units_uncount, refusal
from annotations.services.notifications import notify
from annotations.services.webhooks import hypothesis_data, webhooks_emit
from server.errors import Conflict, ValidationFailed

VERDICT_WORDS = {
    Review.Verdict.APPROVE: "approved",
    Review.Verdict.REQUEST_CHANGES: "requested changes on",
    Review.Verdict.REJECT: "rejected",
}


def review_submit(*, hypothesis, expected_version, verdict, comment="", actor):
    """Record ``actor``'s verdict on version ``expected_version`` of an open hypothesis.

    Reject rejects it; an approval that brings the current version's approvals to the
    project's ``required_approvals`` accepts it and applies its proposal. Returns the review.
    """
    if actor is None:
        raise ValueError("a review is written by a user")
    authorize(actor=actor, action="hypothesis.review", obj=hypothesis)
    if verdict not in Review.Verdict.values:
        raise ValidationFailed(
            f"Unknown verdict {verdict!r}.",
            fields={"verdict": [f"Choose one of: {', '.join(Review.Verdict.values)}."]},
        )
    project = hypothesis.project
    with transaction.atomic():
        if verdict == Review.Verdict.APPROVE:
            # An approval may accept and assign, which locks the project (assignments_apply)
            # and then unit counts; taking the project first keeps the order every other
            # writer uses (project, then units), so an approval and an import cannot deadlock.
            Project.objects.select_for_update().get(pk=project.pk)
        # The lock makes concurrent reviews of one hypothesis take turns, so each counts the
        # approvals committed before it and exactly one of them accepts.
        current = (
            Hypothesis.objects.select_for_update()
            .filter(pk=hypothesis.pk, status=Hypothesis.Status.OPEN, version=expected_version)
            .first()
        )
        if current is None:
            raise refusal(hypothesis, "reviewed", expected_version=expected_version)
        review = Review.objects.create(
            hypothesis=current,
            reviewer=actor,
            verdict=verdict,
            comment=comment,
            version=current.version,
        )
        event_log(
            current,
            "hypothesis.reviewed",
            actor=actor,
            project=project,
            after={"verdict": verdict, "version": current.version, "review": review.pk},
        )
        project_changed(project_id=project.pk)
        notify(
            project=project,
            recipients=[current.author_id],
            kind=Notification.Kind.REVIEW,
            actor=actor,
            target_type="hypothesis",
            target_id=current.pk,
            text=f"{actor.username} {VERDICT_WORDS[verdict]} “{current.title}”",
        )
        # Members @mentioned in the review's comment hear of it, as in a thread comment; the
        # author already has the review's own notification.
        mentioned = set(mentioned_members(project, comment).values()) - {current.author_id}
        if mentioned:
            notify(
                project=project,
                recipients=mentioned,
                kind=Notification.Kind.MENTION,
                actor=actor,
                target_type="hypothesis",
                target_id=current.pk,
                text=f"{actor.username} mentioned you in a review of “{current.title}”",
            )
        decision = None
        if verdict == Review.Verdict.REJECT:
            _reject(current, project=project, actor=actor)
            decision = Hypothesis.Status.REJECTED
        elif verdict == Review.Verdict.APPROVE and _approved(current, project):
            _accept(current, project=project, actor=actor)
            decision = Hypothesis.Status.ACCEPTED
        _emit(current, review, decision, project=project, actor=actor)
    return review


def _emit(hypothesis, review, decision, *, project, actor):
    """The webhooks' review event, and the decision's when the review decided it."""

    def data():
        hypothesis.refresh_from_db(fields=["status", "proposed_group"])
        return {
            "hypothesis": hypothesis_data(hypothesis),
            "review": {
                "id": review.pk,
                "reviewer": actor.username,
                "verdict": review.verdict,
                "version": review.version,
                "comment": review.comment,
            },
        }

    webhooks_emit(project=project, event_type=Webhook.EventType.HYPOTHESIS_REVIEWED, data=data)
    if decision is not None:
        webhooks_emit(
            project=project,
            event_type=Webhook.EventType.HYPOTHESIS_DECIDED,
            data=lambda: {**data(), "decision": decision, "decided_by": actor.username},
        )


def _approved(hypothesis, project):
    approvals = (
        Hypothesis.objects.filter(pk=hypothesis.pk)
        .annotate(approvals=approvals_count())
        .values_list("approvals", flat=True)
        .get()
    )
    return approvals >= max(project.required_approvals, 1)


def _reject(hypothesis, *, project, actor):
    _close(hypothesis, Hypothesis.Status.REJECTED, updated_at=timezone.now())
    event_log(
        hypothesis,
        "hypothesis.rejected",
        actor=actor,
        project=project,
        before={"status": Hypothesis.Status.OPEN},
        after={"status": Hypothesis.Status.REJECTED},
    )
    project_changed(project_id=project.pk)


def _accept(hypothesis, *, project, actor):
    now = timezone.now()
    _close(hypothesis, Hypothesis.Status.ACCEPTED, updated_at=now, accepted_at=now)
    approvers = _approvers(hypothesis)
    try:
        group = _proposed_group(hypothesis, project=project, actor=actor)
        changed = (
            0 if group is None else _apply(hypothesis, group, project=project, approvers=approvers)
        )
    except Conflict as error:
        raise Conflict(
            "The hypothesis cannot be accepted as written, so the approval was not recorded "
            f"and the hypothesis stays open for its author to revise. {error.detail}",
            code=error.code,
            fields=error.fields,
        ) from error
    event_log(
        hypothesis,
        "hypothesis.accepted",
        actor=hypothesis.author,
        project=project,
        before={"status": Hypothesis.Status.OPEN},
        after={
            "status": Hypothesis.Status.ACCEPTED,
            "group": group.pk if group is not None else None,
            "group_name": group.name if group is not None else None,
            "units_changed": changed,
            "approvers": approvers,
            "accepted_by": actor.username,
        },
    )
    project_changed(project_id=project.pk)
    notify(
        project=project,
        recipients=[hypothesis.author_id],
        kind=Notification.Kind.HYPOTHESIS_ACCEPTED,
        actor=actor,
        target_type="hypothesis",
        target_id=hypothesis.pk,
        text=f"“{hypothesis.title}” was accepted",
    )


def _close(hypothesis, status, **fields):
    """The conditional status change; the caller holds the row lock, and the condition keeps
    a hypothesis from being closed twice where the database has no row locks."""
    updated = Hypothesis.objects.filter(
        pk=hypothesis.pk, status=Hypothesis.Status.OPEN, version=hypothesis.version
    ).update(status=status, **fields)
    if not updated:
        raise refusal(hypothesis, "reviewed", expected_version=hypothesis.version)
    open_units_uncount(hypothesis)


def _proposed_group(hypothesis, *, project, actor):
    """The group to put the units in: the proposed one as it is now, or the new one, created
    now; None when the hypothesis proposes no group."""
    if hypothesis.proposed_group_id is not None:
        return _existing_group(project, hypothesis.proposed_group_id, "proposed group")
    if hypothesis.new_group is None:
        return None
    spec = hypothesis.new_group
    parent = None
    if spec["parent"] is not None:
        parent = _existing_group(project, spec["parent"], "new group's parent")
    group = group_create(
        project=project,
        actor=actor,
        name=spec["name"],
        parent=parent,
        description=spec["description"],
        color=spec.get("color"),  # None: group_create picks an unused palette colour
    )
    Hypothesis.objects.filter(pk=hypothesis.pk).update(proposed_group=group)
    return group


def _existing_group(project, group_id, what):
    group = Group.objects.filter(project=project, pk=group_id).first()
    if group is None:
        raise Conflict(
            f"The {what} ({group_id}) no longer exists.",
            code="group_missing",
            fields={"proposed_group": ["No longer exists."]},
        )
    return group


def _approvers(hypothesis):
    """The usernames of the reviewers whose latest review of the hypothesis' current version
    approves it, in the order they approved."""
    latest = {}
    for review in Review.objects.filter(
        hypothesis=hypothesis, version=hypothesis.version
    ).select_related("reviewer"):
        if review.reviewer is not None:
            latest.pop(review.reviewer.username, None)
            latest[review.reviewer.username] = review.verdict
    return [name for name, verdict in latest.items() if verdict == Review.Verdict.APPROVE]


def _apply(hypothesis, group, *, project, approvers):
    """Put the units in ``group`` in the author's name (the approvers go in each event)."""
    rows = list(HypothesisUnit.objects.filter(hypothesis=hypothesis).select_related("unit__layer"))
    return assignments_apply(
        project=project,
        changes=[(row.unit, group) for row in rows],
        actor=hypothesis.author,
        source=Assignment.Source.HYPOTHESIS,
        hypothesis_id=hypothesis.pk,
        note=hypothesis.title,
        expected={row.unit_id: row.expected_group_id for row in rows},
        check_permission=False,
        event_after={"hypothesis": hypothesis.pk, "approvers": approvers},
    )
