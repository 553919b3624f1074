"""Putting units into groups: the one place that changes a unit's accepted group.

Every path that changes a unit's group comes through ``assignments_apply``: direct and bulk
assignment from a grid selection, an accepted hypothesis, a group merge and an import. One
transaction, every unit checked first (all or nothing), bulk writes, one event per unit that
changed group; the events of one call share a ``change`` key in ``after``, so that the change
can be found whole again (``services/undo.py`` reverses one).
"""

import uuid
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from annotations.models import Assignment, Group, Project
from annotations.policies import authorize
from annotations.services.events import event_build, events_record
from annotations.services.grid_changes import project_changed
from server.errors import Conflict, UnknownReference, ValidationFailed
from workers.addresses import MalformedAddress, UnitAddress
from workers.models import Unit

MAX_UNITS_PER_REQUEST = 5000
BATCH_SIZE = 1000

# ``Change.assigned_by`` when the unit is assigned in the actor's name.
ACTOR = object()


class Change(NamedTuple):
    """``unit`` goes into ``group`` (None: out of any group). ``note`` and ``assigned_by``
    replace the call's note and actor for this unit (an import keeps what its file says)."""

    unit: Unit
    group: Group | None
    note: str | None = None
    assigned_by: object = ACTOR


def unit_label(unit):
    """The address of a catalog unit as text (``str(unit.address)``), for callers outside."""
    return str(unit.address)


def _check(project, changes):
    """Every unit studied by the project, every group of the project and in scope."""
    network_ids = set(project.network_links.values_list("network_id", flat=True))
    problems = {}
    seen = set()
    for position, change in enumerate(changes):
        unit, group = change.unit, change.group
        key = f"units.{position}"
        if unit.pk in seen:
            problems[key] = [f"{unit.address} is listed twice."]
        elif unit.network_id not in network_ids:
            problems[key] = [f"{unit.address} is not in a network of this project."]
        elif group is not None and group.project_id != project.pk:
            problems[key] = [f"Group {group.pk} is not in this project."]
        elif group is not None and group.layer_id and group.layer_id != unit.layer_id:
            problems[key] = [f"{group.name} is for layer {group.layer.name} only."]
        seen.add(unit.pk)
    if problems:
        raise ValidationFailed(
            f"{len(problems)} of {len(changes)} units cannot be assigned; nothing was changed.",
            fields=problems,
        )


def assignments_apply(
    *,
    project,
    changes,
    actor,
    source=Assignment.Source.DIRECT,
    hypothesis_id=None,
    note="",
    expected=None,
    check_permission=True,
    keep_provenance=False,
    event_after=None,
):
    """Set each ``(unit, group)`` or ``Change`` of ``changes`` (group None removes the unit's
    group). Returns the number of units whose group changed.

    expected: ``{unit id: group id or None}`` the caller believed current (a hypothesis
    records it when written); if any unit moved since, nothing changes and ``Conflict`` names
    the units.
    check_permission: False when the caller has authorized ``actor`` for the whole change (a
    review, a merge, an import, a direct assignment with its own message).
    keep_provenance: the units change group in place, keeping their note, source, hypothesis
    and assigner (a merge says two groups were one all along, not that each unit was assigned
    anew); each event names the unit's own source.
    event_after: what each unit's event adds to its ``after`` (an import names its event).
    """
    if check_permission:
        authorize(actor=actor, action="assignment.apply", obj=project)
    changes = [change if isinstance(change, Change) else Change(*change) for change in changes]
    _check(project, changes)
    with transaction.atomic():
        # Writers of a project's assignments take turns on the project row (as imports and
        # group changes do): locking the existing rows alone lets two writers both find a unit
        # unassigned and both insert it. After the lock, the rows read are the committed ones.
        Project.objects.select_for_update().get(pk=project.pk)
        current = _current(project, [change.unit.pk for change in changes])
        if expected is not None:
            _refuse_moved(changes, current, expected)
        now = timezone.now()
        change_key = uuid.uuid4().hex
        events, created, updated, removed = [], [], [], []
        for unit, group, unit_note, assigned_by in changes:
            row = current.get(unit.pk)
            before = row.group_id if row else None
            after = group.pk if group else None
            if before == after:
                continue
            if assigned_by is ACTOR:
                assigned_by = actor
            if unit_note is None:
                unit_note = note
            if group is None:
                removed.append(row.pk)
            elif row is None:
                created.append(
                    Assignment(
                        project=project,
                        unit=unit,
                        group=group,
                        note=unit_note,
                        source=source,
                        hypothesis_id=hypothesis_id,
                        assigned_by=assigned_by,
                    )
                )
            else:
                row.group, row.version = group, row.version + 1
                if not keep_provenance:
                    row.note, row.source, row.hypothesis_id = unit_note, source, hypothesis_id
                    row.assigned_by, row.assigned_at = assigned_by, now
                updated.append(row)
            events.append(
                event_build(
                    unit,
                    "unit.unassigned" if group is None else "unit.assigned",
                    actor=actor,
                    project=project,
                    before={"group": before},
                    after={
                        "group": after,
                        "source": row.source if keep_provenance else source,
                        **(event_after or {}),
                        "change": change_key,
                    },
                )
            )
        _write(created, updated, removed, keep_provenance=keep_provenance)
        events_record(events)
        if events:
            project_changed(project_id=project.pk)
    return len(events)


def _current(project, unit_ids):
    """``{unit id: Assignment}`` of ``unit_ids`` in ``project``, locked."""
    current = {}
    for start in range(0, len(unit_ids), BATCH_SIZE):
        rows = Assignment.objects.select_for_update().filter(
            project=project, unit_id__in=unit_ids[start : start + BATCH_SIZE]
        )
        current.update((row.unit_id, row) for row in rows)
    return current


def _refuse_moved(changes, current, expected):
    moved = [
        change.unit
        for change in changes
        if (current[change.unit.pk].group_id if change.unit.pk in current else None)
        != expected.get(change.unit.pk)
    ]
    if moved:
        raise Conflict(
            "These units changed group since the hypothesis was written: "
            + ", ".join(str(unit.address) for unit in moved),
            code="assignment_conflict",
            fields={"units": [str(unit.address) for unit in moved]},
        )


def _write(created, updated, removed, *, keep_provenance):
    for start in range(0, len(removed), BATCH_SIZE):
        Assignment.objects.filter(pk__in=removed[start : start + BATCH_SIZE]).delete()
    Assignment.objects.bulk_create(created, batch_size=BATCH_SIZE)
    # The rows are locked, so each one's next version is the one read plus one.
    fields = ["group", "version"]
    if not keep_provenance:
        fields += ["note", "source", "hypothesis_id", "assigned_by", "assigned_at"]
    Assignment.objects.bulk_update(updated, fields, batch_size=BATCH_SIZE)


def units_for_project(*, project, network, addresses):
    """The units of ``network`` (a network the project studies) at ``"layer:index"``
    addresses, in order; unknown addresses are an UnknownReference naming each one, malformed
    ones a ValidationFailed."""
    wanted = {}
    malformed = {}
    for position, text in enumerate(addresses):
        try:
            address = UnitAddress.parse(text)
        except MalformedAddress:
            malformed[f"units.{position}"] = [f"{text!r} is not 'layer:index'."]
            continue
        wanted.setdefault(address, []).append(position)
    units = {}
    if wanted:
        rows = Unit.objects.select_related("layer").filter(
            network=network,
            network__project_links__project=project,
            layer__name__in={address.layer for address in wanted},
            index__in={address.index for address in wanted},
        )
        units = {UnitAddress.of(row): row for row in rows}
    unknown = {
        f"units.{position}": [f"No unit {address} in this project."]
        for address, positions in wanted.items()
        if address not in units
        for position in positions
    }
    problems = {**malformed, **unknown}
    if problems:
        # Well-formed addresses of units that are not there are references to nothing (422);
        # a malformed address breaks the request's shape (400).
        error = ValidationFailed if malformed else UnknownReference
        raise error(
            f"{len(problems)} unit addresses are unknown; nothing was changed.", fields=problems
        )
    return [units[UnitAddress.parse(text)] for text in addresses]
