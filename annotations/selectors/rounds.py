"""Reads about labelling rounds, each scoped to what the reader may see.

A round is blind while open: a participant reads only their own labels; labels, notes and
scores of everyone are readable only once the round is closed (``round.results`` in the
policy); owners and reviewers see how many units each participant labelled, not what.
"""

from django.db.models import Count

from annotations.models import LabellingRound, RoundLabel, RoundParticipant, RoundUnit
from annotations.policies import can
from server.errors import NotFound, PermissionDenied
from workers.addresses import UnitAddress

OTHER = "other"


def rounds_for_project(*, project):
    """The project's rounds, newest first, with their participants and unit counts."""
    return (
        LabellingRound.objects.filter(project=project)
        .select_related("network", "layer", "created_by")
        .prefetch_related("participants__user")
        .annotate(unit_count=Count("units", distinct=True))
        .order_by("-created_at", "-id")
    )


def round_get_for_user(*, user, project, round_id, action="round.view"):
    """Round ``round_id`` of ``project`` if ``user`` may do ``action`` on it: NotFound when
    the project has no such round, PermissionDenied (code ``round_open`` for what stays
    hidden until the round closes) when the role or the round's state rules it out."""
    labelling_round = (
        LabellingRound.objects.select_related("project", "network", "layer")
        .filter(project=project, pk=round_id)
        .first()
    )
    if labelling_round is None:
        raise NotFound("Round not found.")
    if not can(user, action, labelling_round):
        if action == "round.label":
            raise PermissionDenied("Only the round's participants label it.")
        if action == "round.results" and labelling_round.status == LabellingRound.Status.OPEN:
            raise PermissionDenied(
                "The round's labels and scores stay hidden until it closes.", code="round_open"
            )
        raise PermissionDenied(f"You may not do {action} on this round now.")
    return labelling_round


def round_units(*, labelling_round):
    """The round's units (with their layer) in layer and index order."""
    return list(
        RoundUnit.objects.filter(round=labelling_round)
        .select_related("unit__layer")
        .order_by("unit__layer__order", "unit__index")
    )


def round_choices(*, labelling_round):
    """The categories of the round: ``[(key, group id or None, name)]``, its groups then
    "other"."""
    return [(str(group["id"]), group["id"], group["name"]) for group in labelling_round.groups] + [
        (OTHER, None, OTHER)
    ]


def category_of(group_id):
    return OTHER if group_id is None else str(group_id)


def round_progress(*, labelling_round):
    """``{participant user id: units labelled}``, counts only."""
    counts = dict(
        RoundLabel.objects.filter(round=labelling_round)
        .values_list("participant__user_id")
        .annotate(count=Count("pk"))
        .values_list("participant__user_id", "count")
    )
    return {
        participant.user_id: counts.get(participant.user_id, 0)
        for participant in labelling_round.participants.all()
    }


def round_detail(*, labelling_round, user):
    """The round as ``user`` may read it: progress counts of every participant only for owners
    and reviewers (a participant sees their own), scores only once closed."""
    participants = list(
        RoundParticipant.objects.filter(round=labelling_round).select_related("user")
    )
    progress = round_progress(labelling_round=labelling_round)
    sees_progress = can(user, "round.progress", labelling_round)
    mine = next((p for p in participants if p.user_id == user.pk), None)
    units = round_units(labelling_round=labelling_round)
    return {
        "round": labelling_round,
        "units": [str(UnitAddress.of(row.unit)) for row in units],
        "choices": [
            {"key": key, "group": group, "name": name}
            for key, group, name in round_choices(labelling_round=labelling_round)
        ],
        "participants": [
            {
                "username": participant.user.username,
                "submitted": participant.submitted_at is not None,
                "labelled": (
                    progress[participant.user_id]
                    if sees_progress or participant.user_id == user.pk
                    else None
                ),
            }
            for participant in participants
        ],
        "me": None
        if mine is None
        else {
            "submitted": mine.submitted_at is not None,
            "labelled": progress[mine.user_id],
        },
        "agreement": (
            labelling_round.agreement if can(user, "round.results", labelling_round) else None
        ),
    }


def round_own_labels(*, labelling_round, user):
    """The labels ``user`` gave in the round, in unit order: never anyone else's."""
    return list(
        RoundLabel.objects.filter(round=labelling_round, participant__user=user)
        .select_related("unit__layer")
        .order_by("unit__layer__order", "unit__index")
    )


def round_labels_by_unit(*, labelling_round):
    """``{unit id: {username: group id or None}}`` of every label of the round (the round's
    results; callers check ``round.results`` first)."""
    labels = {}
    rows = RoundLabel.objects.filter(round=labelling_round).values_list(
        "unit_id", "participant__user__username", "group_id"
    )
    for unit_id, username, group_id in rows:
        labels.setdefault(unit_id, {})[username] = group_id
    return labels


def agreed_choice(unit_labels):
    """The category all labels of a unit agree on (two labels or more), or None."""
    choices = {category_of(group_id) for group_id in unit_labels.values()}
    if len(unit_labels) >= 2 and len(choices) == 1:
        return choices.pop()
    return None


def round_results(*, labelling_round, disagreements_only=False):
    """Every unit of a closed round with each participant's label and note, whether they
    agree, and the decision taken; ``disagreements_only``: the units still to decide where
    the labels do not agree (a unit with fewer than two labels counts as not agreed)."""
    rows = (
        RoundLabel.objects.filter(round=labelling_round)
        .select_related("participant__user")
        .order_by("participant__user__username")
    )
    labels = {}
    for row in rows:
        labels.setdefault(row.unit_id, []).append(
            {
                "annotator": row.participant.user.username,
                "choice": category_of(row.group_id),
                "note": row.note,
            }
        )
    results = []
    for row in round_units(labelling_round=labelling_round):
        unit_labels = labels.get(row.unit_id, [])
        choices = {label["choice"] for label in unit_labels}
        agreed = len(unit_labels) >= 2 and len(choices) == 1
        if disagreements_only and (agreed or row.decided):
            continue
        results.append(
            {
                "unit": str(UnitAddress.of(row.unit)),
                "labels": unit_labels,
                "agreed": agreed,
                "decided": row.decided,
                "decision": category_of(row.decided_group_id) if row.decided else None,
            }
        )
    return results


def round_documents(*, project, network):
    """The closed rounds on ``network``, oldest first, as the JSON export and releases record
    them: what was labelled, by whom, and the agreement summary."""
    rounds = (
        LabellingRound.objects.filter(
            project=project, network=network, status=LabellingRound.Status.CLOSED
        )
        .select_related("layer")
        .annotate(unit_count=Count("units", distinct=True))
        .order_by("closed_at", "pk")
    )
    return [
        {
            "title": labelling_round.title,
            "layer": labelling_round.layer.name if labelling_round.layer else None,
            "units": labelling_round.unit_count,
            "annotators": labelling_round.agreement["annotators"],
            "closed_at": labelling_round.closed_at.isoformat(),
            "choices": [
                {"key": key, "name": name}
                for key, _, name in round_choices(labelling_round=labelling_round)
            ],
            "agreement": labelling_round.agreement,
        }
        for labelling_round in rounds
    ]
