"""Universality links: a member proposes that two units (or two groups) are the same feature,
usually across networks; a reviewer or owner other than the proposer confirms or rejects it."""

from django.db import transaction
from django.utils import timezone

from annotations.models import ProjectNetwork, UnitLink
from annotations.policies import authorize
from annotations.services.events import event_log
from annotations.services.grid_changes import project_changed
from server.concurrency import stale
from server.errors import InvalidTransition, NotFound, Unprocessable, ValidationFailed

VERDICTS = {"confirm": UnitLink.Status.CONFIRMED, "reject": UnitLink.Status.REJECTED}


def link_propose(
    *,
    project,
    actor,
    unit_a=None,
    unit_b=None,
    group_a=None,
    group_b=None,
    note="",
    correlation=None,
):
    """Propose that ``unit_a`` and ``unit_b`` (or ``group_a`` and ``group_b``) are one feature;
    both sides belong to the project. ``correlation``: from a universality suggestion."""
    authorize(actor=actor, action="link.create", obj=project)
    units, groups = (unit_a, unit_b), (group_a, group_b)
    if all(side is not None for side in units) == all(side is not None for side in groups):
        # Every field is optional on its own; which pair is given is a rule of the request as
        # a whole: 422, like the other rules the schema cannot state.
        raise Unprocessable(
            "A link joins two units or two groups.",
            fields={"unit_a": ["Give unit_a and unit_b, or group_a and group_b."]},
        )
    if units[0] is not None:
        studied = set(
            ProjectNetwork.objects.filter(project=project).values_list("network_id", flat=True)
        )
        for field, unit in zip(("unit_a", "unit_b"), units, strict=True):
            if unit.network_id not in studied:
                raise ValidationFailed(
                    f"{unit.address} is not in a network of this project.",
                    fields={field: ["Not in this project."]},
                )
        if unit_a.pk == unit_b.pk:
            raise Unprocessable("A unit is not linked to itself.", fields={"unit_b": ["Same."]})
    else:
        for field, group in zip(("group_a", "group_b"), groups, strict=True):
            if group.project_id != project.pk:
                raise ValidationFailed(
                    f"Group {group.pk} is not in this project.", fields={field: ["Unknown."]}
                )
        if group_a.pk == group_b.pk:
            raise Unprocessable("A group is not linked to itself.", fields={"group_b": ["Same."]})
    if correlation is not None and not -1.0 <= correlation <= 1.0:
        raise ValidationFailed(
            "A correlation is between -1 and 1.", fields={"correlation": ["Out of range."]}
        )
    with transaction.atomic():
        link = UnitLink.objects.create(
            project=project,
            unit_a=unit_a,
            unit_b=unit_b,
            group_a=group_a,
            group_b=group_b,
            note=note,
            correlation=correlation,
            proposed_by=actor,
        )
        _record(link, actor, "link.proposed", after={**_sides(link), "note": note})
    return link


def link_review(*, link, actor, verdict, expected_version, note=""):
    """Confirm or reject a proposed link (``verdict``: "confirm" or "reject")."""
    authorize(actor=actor, action="link.review", obj=link)
    if verdict not in VERDICTS:
        raise ValidationFailed("Confirm or reject.", fields={"verdict": ["confirm or reject"]})
    status = VERDICTS[verdict]
    now = timezone.now()
    with transaction.atomic():
        updated = UnitLink.objects.filter(
            pk=link.pk, status=UnitLink.Status.PROPOSED, version=expected_version
        ).update(
            status=status,
            reviewed_by=actor,
            reviewed_at=now,
            review_note=note,
            version=expected_version + 1,
        )
        if not updated:
            raise _refusal(link, expected_version)
        link.refresh_from_db()
        _record(
            link,
            actor,
            f"link.{status}",
            before={"status": UnitLink.Status.PROPOSED},
            after={"status": status, "note": note},
        )
    return link


def _sides(link):
    """The two sides as the event log and the export write them."""
    if link.unit_a_id is not None:
        return {"a": _unit_side(link.unit_a), "b": _unit_side(link.unit_b)}
    return {"a": {"group": link.group_a.name}, "b": {"group": link.group_b.name}}


def _unit_side(unit):
    return {"network": unit.network.name, "unit": str(unit.address)}


def _refusal(link, expected_version):
    row = UnitLink.objects.filter(pk=link.pk).values("status", "version").first()
    if row is None:
        return NotFound("Link not found.")
    if row["status"] != UnitLink.Status.PROPOSED:
        return InvalidTransition(
            f"This link is {row['status']}; only a proposed link can be reviewed.",
            fields={"status": [row["status"]]},
        )
    return stale("link", row["version"])


def _record(link, actor, verb, *, before=None, after=None):
    event_log(link, verb, actor=actor, before=before, after=after)
    project_changed(project_id=link.project_id)
