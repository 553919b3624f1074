"""Blind labelling rounds: opening one, labelling, submitting, closing with the agreement.

Labels are private to their author until the round closes, so saving them writes no event
(the project's activity feed is readable by every member); submitting, closing and opening
do. The last submission closes the round in the same transaction. Decisions on the units
(``round_decisions.py``) go through the one assignment service.
"""

from django.db import transaction
from django.utils import timezone

from annotations.formats.agreement import round_agreement
from annotations.models import (
    Group,
    LabellingRound,
    Membership,
    ProjectNetwork,
    RoundLabel,
    RoundParticipant,
    RoundUnit,
)
from annotations.policies import WRITERS, authorize
from annotations.selectors.rounds import category_of, round_choices, round_labels_by_unit
from annotations.services.assignments import MAX_UNITS_PER_REQUEST, units_for_project
from annotations.services.events import event_log
from server.errors import (
    Conflict,
    InvalidTransition,
    UnknownReference,
    Unprocessable,
    ValidationFailed,
)
from workers.models import Unit

TITLE_MAX_LENGTH = LabellingRound._meta.get_field("title").max_length


def round_open(
    *,
    project,
    network,
    title,
    participants,
    group_ids,
    actor,
    layer=None,
    units=(),
    instructions="",
):
    """Open a round on every unit of ``layer`` or on ``units`` ("layer:index" addresses of
    ``network``), for ``participants`` (usernames of two or more members who may annotate),
    choosing among the project groups ``group_ids`` and "other"."""
    authorize(actor=actor, action="round.open", obj=project)
    if not ProjectNetwork.objects.filter(project=project, network=network).exists():
        raise Unprocessable(
            "This project does not study that network.", fields={"network": ["Unknown."]}
        )
    unit_rows = _round_units(project, network, layer, list(units))
    users = _participants(project, participants)
    groups = _choices(project, group_ids, unit_rows)
    with transaction.atomic():
        labelling_round = LabellingRound.objects.create(
            project=project,
            network=network,
            layer=layer,
            title=title,
            instructions=instructions,
            groups=[{"id": group.pk, "name": group.name} for group in groups],
            created_by=actor,
        )
        RoundParticipant.objects.bulk_create(
            RoundParticipant(round=labelling_round, user=user) for user in users
        )
        RoundUnit.objects.bulk_create(
            (RoundUnit(round=labelling_round, unit=unit) for unit in unit_rows), batch_size=1000
        )
        event_log(
            labelling_round,
            "round.opened",
            actor=actor,
            after={
                "title": title,
                "units": len(unit_rows),
                "participants": [user.username for user in users],
                "groups": labelling_round.groups,
            },
        )
    return labelling_round


def _round_units(project, network, layer, addresses):
    if (layer is None) == (not addresses):
        raise Unprocessable(
            "Name a layer or a list of units, not both.",
            fields={"units": ["Give a layer or units."]},
        )
    if layer is not None:
        if layer.network_id != network.pk:
            raise Unprocessable("That layer is not in the network.", fields={"layer": ["Unknown."]})
        rows = list(Unit.objects.filter(layer=layer).select_related("layer").order_by("index"))
    else:
        if len(addresses) != len(set(addresses)):
            raise Unprocessable("A unit is listed twice.", fields={"units": ["Duplicates."]})
        rows = units_for_project(project=project, network=network, addresses=addresses)
    if len(rows) > MAX_UNITS_PER_REQUEST:
        raise Unprocessable(
            f"A round has at most {MAX_UNITS_PER_REQUEST} units.", fields={"units": ["Too many."]}
        )
    if not rows:
        raise Unprocessable("The round has no units.", fields={"units": ["Empty."]})
    return rows


def _participants(project, usernames):
    wanted = list(dict.fromkeys(usernames))
    if len(wanted) < 2:
        raise Unprocessable(
            "A round needs two participants or more.",
            fields={"participants": ["Name two or more members."]},
        )
    members = {
        membership.user.username: membership
        for membership in Membership.objects.filter(
            project=project, user__username__in=wanted
        ).select_related("user")
    }
    problems = {
        f"participants.{position}": [f"{name!r} is not a member who may annotate."]
        for position, name in enumerate(wanted)
        if name not in members or members[name].role not in WRITERS
    }
    if problems:
        raise UnknownReference("Some participants cannot label this round.", fields=problems)
    return [members[name].user for name in sorted(wanted)]


def _choices(project, group_ids, unit_rows):
    wanted = list(dict.fromkeys(group_ids))
    if not wanted:
        raise Unprocessable(
            "A round needs one group or more to choose from (besides 'other').",
            fields={"groups": ["Name a group."]},
        )
    groups = {
        group.pk: group
        for group in Group.objects.filter(project=project, pk__in=wanted).select_related("layer")
    }
    layers = {unit.layer_id for unit in unit_rows}
    problems = {}
    for position, group_id in enumerate(wanted):
        group = groups.get(group_id)
        if group is None:
            problems[f"groups.{position}"] = [f"No group {group_id} in this project."]
        elif group.layer_id and layers != {group.layer_id}:
            problems[f"groups.{position}"] = [f"{group.name} is for layer {group.layer.name} only."]
    if problems:
        raise UnknownReference("Some groups cannot be chosen in this round.", fields=problems)
    return [groups[group_id] for group_id in wanted]


def _locked_participant(labelling_round, actor):
    """The actor's participation, locked after the round's row: a save, a submission and a
    close of one round take turns, so no label lands after the close has read them."""
    status = (
        LabellingRound.objects.select_for_update()
        .filter(pk=labelling_round.pk)
        .values_list("status", flat=True)
        .get()
    )
    participant = RoundParticipant.objects.select_for_update().get(
        round=labelling_round, user=actor
    )
    if status != LabellingRound.Status.OPEN:
        raise InvalidTransition("The round is closed; its labels are frozen.")
    if participant.submitted_at is not None:
        raise InvalidTransition("You have submitted your labels; they are frozen.")
    return participant


def round_labels_save(*, labelling_round, labels, actor):
    """Save ``actor``'s labels: ``labels`` is a list of ``{"unit": "layer:index", "group": a
    group id of the round or None for "other", "note"}``; saving a unit again replaces its
    label. Returns how many were saved."""
    authorize(actor=actor, action="round.label", obj=labelling_round)
    if len(labels) > MAX_UNITS_PER_REQUEST:
        raise Unprocessable(
            f"At most {MAX_UNITS_PER_REQUEST} labels at once.", fields={"labels": ["Too many."]}
        )
    addresses = [label["unit"] for label in labels]
    if len(addresses) != len(set(addresses)):
        raise Unprocessable("A unit is labelled twice.", fields={"labels": ["Duplicates."]})
    try:
        units = units_for_project(
            project=labelling_round.project, network=labelling_round.network, addresses=addresses
        )
    except ValidationFailed as error:
        # Named as the request names them: labels.<n>.unit.
        raise type(error)(
            error.detail,
            fields={
                f"labels.{key.removeprefix('units.')}.unit": messages
                for key, messages in error.fields.items()
            },
        ) from error
    in_round = set(
        RoundUnit.objects.filter(round=labelling_round, unit__in=units).values_list(
            "unit_id", flat=True
        )
    )
    choices = {group_id for _, group_id, _ in round_choices(labelling_round=labelling_round)}
    problems = {}
    for position, (label, unit) in enumerate(zip(labels, units, strict=True)):
        if unit.pk not in in_round:
            problems[f"labels.{position}.unit"] = [f"{label['unit']} is not in this round."]
        elif label.get("group") not in choices:
            problems[f"labels.{position}.group"] = ["Not one of the round's groups."]
    if problems:
        raise Unprocessable(
            f"{len(problems)} labels cannot be saved; nothing was saved.", fields=problems
        )
    with transaction.atomic():
        participant = _locked_participant(labelling_round, actor)
        RoundLabel.objects.bulk_create(
            [
                RoundLabel(
                    round=labelling_round,
                    participant=participant,
                    unit=unit,
                    group_id=label.get("group"),
                    note=label.get("note", ""),
                )
                for label, unit in zip(labels, units, strict=True)
            ],
            update_conflicts=True,
            unique_fields=["participant", "unit"],
            update_fields=["group", "note", "updated_at"],
            batch_size=1000,
        )
    return len(labels)


def round_submit(*, labelling_round, actor):
    """Submit ``actor``'s labels (every unit labelled); they are frozen. The last submission
    closes the round."""
    authorize(actor=actor, action="round.label", obj=labelling_round)
    with transaction.atomic():
        # The round's row (locked first) orders submissions: exactly one closes the round.
        participant = _locked_participant(labelling_round, actor)
        missing = (
            RoundUnit.objects.filter(round=labelling_round).count()
            - RoundLabel.objects.filter(participant=participant).count()
        )
        if missing:
            raise Conflict(
                f"{missing} units of the round have no label of yours yet.",
                code="round_incomplete",
            )
        participant.submitted_at = timezone.now()
        participant.save(update_fields=["submitted_at"])
        event_log(
            labelling_round,
            "round.submitted",
            actor=actor,
            after={"participant": actor.username},
        )
        waiting = RoundParticipant.objects.filter(
            round=labelling_round, submitted_at__isnull=True
        ).exists()
        if not waiting:
            _close(labelling_round, actor=actor, reason="all_submitted")
    labelling_round.refresh_from_db()
    return labelling_round


def round_close(*, labelling_round, actor):
    """Close an open round early (owners): labels given so far count, missing ones are
    missing (Krippendorff's alpha allows them; the kappas use the units everyone labelled)."""
    authorize(actor=actor, action="round.close", obj=labelling_round)
    with transaction.atomic():
        status = (
            LabellingRound.objects.select_for_update()
            .filter(pk=labelling_round.pk)
            .values_list("status", flat=True)
            .get()
        )
        if status != LabellingRound.Status.OPEN:
            raise InvalidTransition("The round is already closed.")
        _close(labelling_round, actor=actor, reason="closed_early")
    labelling_round.refresh_from_db()
    return labelling_round


def _close(labelling_round, *, actor, reason):
    agreement = round_agreement_summary(labelling_round=labelling_round)
    LabellingRound.objects.filter(pk=labelling_round.pk).update(
        status=LabellingRound.Status.CLOSED,
        closed_at=timezone.now(),
        closed_by=actor,
        agreement=agreement,
    )
    event_log(
        labelling_round,
        "round.closed",
        actor=actor,
        project=labelling_round.project,
        after={"reason": reason, **headline_scores(agreement)},
    )


def headline_scores(agreement):
    """The scores a feed, a release or an export names for a round."""
    keys = ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha")
    return {key: agreement[key] for key in keys}


def round_agreement_summary(*, labelling_round):
    """The agreement of the round's labels (``formats/agreement.round_agreement``), with the
    categories named: the group names the round opened with, and "other"."""
    annotators = list(
        RoundParticipant.objects.filter(round=labelling_round)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )
    choices = round_choices(labelling_round=labelling_round)
    labels = {
        unit_id: {name: category_of(group_id) for name, group_id in unit_labels.items()}
        for unit_id, unit_labels in round_labels_by_unit(labelling_round=labelling_round).items()
    }
    agreement = round_agreement(
        annotators=annotators, categories=[key for key, _, _ in choices], labels=labels
    )
    agreement["units"] = RoundUnit.objects.filter(round=labelling_round).count()
    names = {key: name for key, _, name in choices}
    for row in agreement["per_category"]:
        row["name"] = names[row["category"]]
    return agreement
