"""Putting units into groups: the one place that changes a unit's accepted group.

Direct assignment, bulk assignment from a grid selection, an accepted hypothesis and an import
all come through ``assignments_apply``: one transaction, every unit checked first (all or
nothing), one event per unit.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotations.models import Assignment, Event, Group, Project
from annotations.policies import authorize
from annotations.services.events import events_record
from server.errors import Conflict, UnknownReference, ValidationFailed
from workers.models import Unit

MAX_UNITS_PER_REQUEST = 5000


def unit_label(unit):
    return f"{unit.layer.name}:{unit.index}"


def _check(project, changes):
    """Every unit studied by the project, every group of the project and in scope."""
    network_ids = set(project.network_links.values_list("network_id", flat=True))
    problems = {}
    seen = set()
    for position, (unit, group) in enumerate(changes):
        key = f"units.{position}"
        if unit.pk in seen:
            problems[key] = [f"{unit_label(unit)} is listed twice."]
        elif unit.network_id not in network_ids:
            problems[key] = [f"{unit_label(unit)} is not in a network of this project."]
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
):
    """Set each ``(unit, group)`` of ``changes`` (group None removes the unit's group).

    expected: ``{unit id: group id or None}`` the caller believed current (a hypothesis
    records it when written); if any unit moved since, nothing changes and ``Conflict`` names
    the units. Returns the number of units whose group changed.
    """
    if check_permission:
        authorize(actor=actor, action="assignment.apply", obj=project)
    if len(changes) > MAX_UNITS_PER_REQUEST:
        raise ValidationFailed(
            f"At most {MAX_UNITS_PER_REQUEST} units per request.", fields={"units": ["Too many."]}
        )
    _check(project, changes)
    with transaction.atomic():
        # Writers of a project's assignments take turns on the project row (as imports and
        # group changes do): locking the existing rows alone lets two writers both find a unit
        # unassigned and both insert it. After the lock, the rows read are the committed ones.
        Project.objects.select_for_update().get(pk=project.pk)
        unit_ids = [unit.pk for unit, _ in changes]
        current = {
            row.unit_id: row
            for row in Assignment.objects.select_for_update().filter(
                project=project, unit_id__in=unit_ids
            )
        }
        if expected is not None:
            moved = [
                unit
                for unit, _ in changes
                if (current[unit.pk].group_id if unit.pk in current else None)
                != expected.get(unit.pk)
            ]
            if moved:
                raise Conflict(
                    "These units changed group since the hypothesis was written: "
                    + ", ".join(unit_label(unit) for unit in moved),
                    code="assignment_conflict",
                    fields={"units": [unit_label(unit) for unit in moved]},
                )
        events, created, changed = [], [], 0
        for unit, group in changes:
            row = current.get(unit.pk)
            before = row.group_id if row else None
            after = group.pk if group else None
            if before == after:
                continue
            changed += 1
            if group is None:
                row.delete()
            elif row is None:
                created.append(
                    Assignment(
                        project=project,
                        unit=unit,
                        group=group,
                        note=note,
                        source=source,
                        hypothesis_id=hypothesis_id,
                        assigned_by=actor,
                    )
                )
            else:
                Assignment.objects.filter(pk=row.pk).update(
                    group=group,
                    note=note,
                    source=source,
                    hypothesis_id=hypothesis_id,
                    assigned_by=actor,
                    # update() skips auto_now.
                    assigned_at=timezone.now(),
                    version=F("version") + 1,
                )
            events.append(
                Event(
                    project=project,
                    actor=actor,
                    verb="unit.unassigned" if group is None else "unit.assigned",
                    target_type="unit",
                    target_id=unit.pk,
                    target_label=unit_label(unit),
                    before={"group": before},
                    after={"group": after, "source": source},
                )
            )
        Assignment.objects.bulk_create(created, batch_size=500)
        events_record(events)
    return changed


def units_for_project(*, project, network, addresses):
    """The units of ``network`` (a network the project studies) at ``"layer:index"``
    addresses, in order; unknown addresses are a ValidationFailed naming each one."""
    wanted = {}
    problems = {}
    for position, address in enumerate(addresses):
        layer, _, index = str(address).rpartition(":")
        if not layer or not index.isdigit():
            problems[f"units.{position}"] = [f"{address!r} is not 'layer:index'."]
            continue
        wanted.setdefault((layer, int(index)), []).append(position)
    units = {}
    if wanted:
        layers = {layer for layer, _ in wanted}
        rows = Unit.objects.select_related("layer").filter(
            network=network,
            network__project_links__project=project,
            layer__name__in=layers,
            index__in={index for _, index in wanted},
        )
        units = {(row.layer.name, row.index): row for row in rows}
    for key, positions in wanted.items():
        if key not in units:
            for position in positions:
                problems[f"units.{position}"] = [f"No unit {key[0]}:{key[1]} in this project."]
    if problems:
        # Well-formed addresses of units that are not there are references to nothing (422);
        # a malformed address breaks the request's shape (400).
        malformed = any("is not 'layer:index'" in messages[0] for messages in problems.values())
        error = ValidationFailed if malformed else UnknownReference
        raise error(
            f"{len(problems)} unit addresses are unknown; nothing was changed.", fields=problems
        )
    return [units[(str(a).rpartition(":")[0], int(str(a).rpartition(":")[2]))] for a in addresses]


def group_for_project(*, project, group_id):
    group = Group.objects.filter(project=project, pk=group_id).first()
    if group is None:
        raise ValidationFailed(
            f"No group {group_id} in this project.", fields={"group": ["Unknown."]}
        )
    return group
