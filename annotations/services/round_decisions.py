"""Deciding a closed round's units: a reviewer decides each unit where the labels disagree,
and applies the units where everyone agreed in one action. Every decision that names a group
becomes an accepted assignment through the one assignment service, credited to the round
(``source`` "round", and the unit's event names the round)."""

from django.db import transaction
from django.utils import timezone

from annotations.models import Assignment, Group, RoundUnit
from annotations.policies import authorize
from annotations.selectors.rounds import (
    OTHER,
    agreed_choice,
    round_choices,
    round_labels_by_unit,
)
from annotations.services.assignments import Change, assignments_apply, units_for_project
from annotations.services.events import event_log
from server.errors import InvalidTransition, UnknownReference, Unprocessable


def _groups(labelling_round, group_ids):
    groups = Group.objects.filter(project=labelling_round.project, pk__in=group_ids)
    found = {group.pk: group for group in groups}
    gone = sorted(set(group_ids) - set(found))
    if gone:
        raise UnknownReference(
            "A group of the round was deleted since it opened.",
            fields={"group": [f"No group {group_id} any more." for group_id in gone]},
        )
    return found


def _assign(labelling_round, decided, actor):
    """Assign each ``(unit, group id)`` of ``decided`` with a group; returns how many units
    changed group."""
    wanted = [(unit, group_id) for unit, group_id in decided if group_id is not None]
    groups = _groups(labelling_round, {group_id for _, group_id in wanted})
    return assignments_apply(
        project=labelling_round.project,
        changes=[Change(unit, groups[group_id]) for unit, group_id in wanted],
        actor=actor,
        source=Assignment.Source.ROUND,
        note=f"Labelling round: {labelling_round.title}",
        check_permission=False,
        event_after={"round": labelling_round.pk},
    )


def round_unit_decide(*, labelling_round, unit, group_id, actor):
    """Decide unit ``unit`` ("layer:index") of a closed round where the labels disagree:
    ``group_id`` (a group of the round) becomes its accepted group; None ("other") leaves its
    group as it is. Returns the number of units whose group changed (0 or 1)."""
    authorize(actor=actor, action="round.decide", obj=labelling_round)
    if group_id not in {group for _, group, _ in round_choices(labelling_round=labelling_round)}:
        raise Unprocessable(
            "Decide one of the round's groups or 'other'.",
            fields={"group": ["Not one of the round's groups."]},
        )
    (unit_row,) = units_for_project(
        project=labelling_round.project, network=labelling_round.network, addresses=[unit]
    )
    with transaction.atomic():
        row = (
            RoundUnit.objects.select_for_update()
            .filter(round=labelling_round, unit=unit_row)
            .first()
        )
        if row is None:
            raise UnknownReference(f"{unit} is not in this round.", fields={"unit": ["Unknown."]})
        if row.decided:
            raise InvalidTransition(f"{unit} is decided already.", code="already_decided")
        labels = round_labels_by_unit(labelling_round=labelling_round).get(unit_row.pk, {})
        if agreed_choice(labels) is not None:
            raise InvalidTransition(
                f"Everyone agreed on {unit}; apply the agreed labels instead.",
                code="not_disputed",
            )
        changed = _assign(labelling_round, [(unit_row, group_id)], actor)
        _mark_decided([row], {unit_row.pk: group_id}, actor)
        event_log(
            labelling_round,
            "round.unit_decided",
            actor=actor,
            after={"unit": unit, "group": group_id, "assigned": changed},
        )
    return changed


def round_agreed_apply(*, labelling_round, actor):
    """Apply every undecided unit of a closed round whose labels all agree (two or more):
    a group becomes the unit's accepted group; agreed "other" is recorded and changes
    nothing. Returns ``(units decided, units whose group changed)``."""
    authorize(actor=actor, action="round.decide", obj=labelling_round)
    with transaction.atomic():
        rows = list(
            RoundUnit.objects.select_for_update()
            .filter(round=labelling_round, decided=False)
            .select_related("unit__layer")
            .order_by("unit_id")
        )
        labels = round_labels_by_unit(labelling_round=labelling_round)
        agreed = {}
        for row in rows:
            choice = agreed_choice(labels.get(row.unit_id, {}))
            if choice is not None:
                agreed[row.unit_id] = None if choice == OTHER else int(choice)
        decided_rows = [row for row in rows if row.unit_id in agreed]
        changed = _assign(
            labelling_round, [(row.unit, agreed[row.unit_id]) for row in decided_rows], actor
        )
        _mark_decided(decided_rows, agreed, actor)
        event_log(
            labelling_round,
            "round.agreed_applied",
            actor=actor,
            after={"units": len(decided_rows), "assigned": changed},
        )
    return len(decided_rows), changed


def _mark_decided(rows, group_ids, actor):
    now = timezone.now()
    for row in rows:
        row.decided, row.decided_group_id = True, group_ids[row.unit_id]
        row.decided_by, row.decided_at = actor, now
    RoundUnit.objects.bulk_update(
        rows, ["decided", "decided_group", "decided_by", "decided_at"], batch_size=1000
    )
