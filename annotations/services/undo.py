"""Undoing a change: a member reverses one of their own direct assignments or group merges.

An undo is a change of its own, recorded by new events that name what they undo
(``after["undoes"]``); the history of the change undone stays as it was. The rules:

- only your own change, and only a direct assignment (a grid selection, a unit card) or a
  merge: an accepted hypothesis is undone by a new hypothesis, an import by another import;
- only once, and only while nothing has changed those units' groups since (409
  ``undo_conflict`` naming the units);
- an assignment is found whole by its ``change`` key (``assignments_apply``): undoing one of
  its units' events undoes every unit it moved. Units go back to their groups as a direct
  assignment by you; a group that no longer exists cannot be gone back to (409
  ``group_missing``).
- a merge is undone by creating the merged group again (as it was: name, parent, layer,
  colour, order; a new id), moving back the subgroups still under the group it was merged
  into and the units, keeping their provenance as the merge did.
"""

from django.db import transaction

from annotations.models import Event, Group, Project
from annotations.policies import authorize
from annotations.selectors.events import UNIT_VERBS
from annotations.services.assignments import assignments_apply
from annotations.services.events import event_build, event_log, events_record
from annotations.services.grid_changes import project_changed
from annotations.services.groups import direct_assignment_authorize, group_create
from server.errors import Conflict, NotFound, PermissionDenied, Unprocessable
from workers.models import Layer, Unit

MERGE_VERB = "group.merged"
UNMERGE_VERB = "group.unmerged"


def change_undo(*, project, actor, event_id):
    """Reverse the change ``event_id`` belongs to (a ``unit.assigned``/``unit.unassigned``
    event of a direct assignment, or a ``group.merged`` event) by ``actor``, its author.
    Returns ``{"undone": event id, "units_changed": n, "group": the merged group made again
    (a merge) or None}``."""
    event = Event.objects.filter(project=project, pk=event_id).first()
    if event is None:
        raise NotFound(f"No event {event_id} in this project.")
    if event.actor_id != actor.pk:
        raise PermissionDenied("You can undo only your own changes.", code="not_your_change")
    if "undoes" in (event.after or {}):
        raise Unprocessable(
            "An undo is not undone; make the change again instead.", code="not_undoable"
        )
    if event.verb == MERGE_VERB:
        return _merge_undo(project, actor, event)
    if event.verb in UNIT_VERBS and (event.after or {}).get("source") == "direct":
        return _assignment_undo(project, actor, event)
    raise Unprocessable(
        f"A {event.verb} event cannot be undone: only direct assignments and merges can.",
        code="not_undoable",
    )


def last_undoable(*, project, actor):
    """``actor``'s latest direct assignment or merge in ``project`` if it can still be undone
    (not undone, nothing changed its units since): ``{"event", "verb", "summary", "units",
    "created_at"}``; None when there is none. Looks no further back than that latest change:
    undoing goes one change at a time."""
    event = (
        Event.objects.filter(project=project, actor=actor, verb__in=(*UNIT_VERBS, MERGE_VERB))
        .exclude(after__has_key="undoes")
        .order_by("-created_at", "-id")
        .first()
    )
    if event is None:
        return None
    if event.verb != MERGE_VERB and (event.after or {}).get("source") != "direct":
        return None
    batch = _merge_batch(project, event) if event.verb == MERGE_VERB else _batch(project, event)
    if _undone(project, event, batch) or _changed_since(project, batch):
        return None
    return {
        "event": event.pk,
        "verb": event.verb,
        "summary": _summary(project, event, batch),
        "units": [row.target_label for row in batch],
        "created_at": event.created_at,
    }


def _summary(project, event, batch):
    if event.verb == MERGE_VERB:
        into = Group.objects.filter(project=project, pk=event.after["into"]).first()
        return f"merged {event.target_label} into {into.name if into else 'a deleted group'}"
    groups = {row.after["group"] for row in batch}
    names = dict(Group.objects.filter(project=project, pk__in=groups).values_list("pk", "name"))
    units = f"{len(batch)} unit" + ("s" if len(batch) != 1 else "")
    if groups == {None}:
        return f"took {units} out of their group"
    if len(groups) == 1:
        (group,) = groups
        return f"put {units} into {names.get(group, 'a deleted group')}"
    return f"moved {units}"


def _assignment_undo(project, actor, event):
    direct_assignment_authorize(project=project, actor=actor)
    with transaction.atomic():
        # Writers of assignments take turns on the project row: what is checked here holds
        # until the undo is written.
        Project.objects.select_for_update().get(pk=project.pk)
        batch = _batch(project, event)
        _refuse_done_or_changed(project, event, batch)
        units = Unit.objects.select_related("layer").in_bulk([row.target_id for row in batch])
        wanted = {row.target_id: row.before["group"] for row in batch}
        groups = Group.objects.filter(project=project).in_bulk(set(wanted.values()) - {None})
        missing = sorted({pk for pk in wanted.values() if pk is not None and pk not in groups})
        if missing:
            raise Conflict(
                f"The groups these units were in no longer exist (ids {missing}); "
                "assign the units by hand instead.",
                code="group_missing",
                fields={"groups": [str(pk) for pk in missing]},
            )
        changed = assignments_apply(
            project=project,
            changes=[(units[pk], groups.get(group_id)) for pk, group_id in wanted.items()],
            actor=actor,
            expected={row.target_id: row.after["group"] for row in batch},
            check_permission=False,
            event_after={"undoes": event.after.get("change", event.pk)},
        )
    return {"undone": event.pk, "units_changed": changed, "group": None}


def _merge_undo(project, actor, event):
    snapshot, merged = event.before, event.after
    into = Group.objects.filter(project=project, pk=merged["into"]).first()
    if into is None:
        raise Conflict(
            "The group it was merged into no longer exists.",
            code="group_missing",
            fields={"groups": [str(merged["into"])]},
        )
    authorize(actor=actor, action="group.merge", obj=into)
    parent = None
    if snapshot["parent"] is not None:
        parent = Group.objects.filter(project=project, pk=snapshot["parent"]).first()
        if parent is None:
            raise Conflict(
                "The merged group's parent no longer exists.",
                code="group_missing",
                fields={"groups": [str(snapshot["parent"])]},
            )
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)
        batch = _merge_batch(project, event)
        _refuse_done_or_changed(project, event, batch)
        group = group_create(
            project=project,
            actor=actor,
            name=snapshot["name"],
            parent=parent,
            description=snapshot["description"],
            color=snapshot["color"],
            order=snapshot["order"],
            layer=Layer.objects.filter(pk=snapshot["layer"]).first() if snapshot["layer"] else None,
        )
        children = list(
            Group.objects.filter(project=project, pk__in=merged["children"], parent=into)
        )
        Group.objects.filter(pk__in=[child.pk for child in children]).update(parent=group)
        units = Unit.objects.select_related("layer").in_bulk([row.target_id for row in batch])
        changed = assignments_apply(
            project=project,
            changes=[(unit, group) for unit in units.values()],
            actor=actor,
            expected={pk: into.pk for pk in units},
            check_permission=False,
            keep_provenance=True,
            event_after={"undoes": event.pk},
        )
        events_record(
            [
                event_build(
                    child,
                    "group.moved",
                    actor=actor,
                    project=project,
                    before={"parent": into.pk},
                    after={"parent": group.pk, "undoes": event.pk},
                )
                for child in children
            ]
        )
        event_log(
            group,
            UNMERGE_VERB,
            actor=actor,
            project=project,
            before={"merged": event.target_id},
            after={
                "undoes": event.pk,
                "into": into.pk,
                "units": changed,
                "children": [child.pk for child in children],
            },
        )
        project_changed(project_id=project.pk)
    return {"undone": event.pk, "units_changed": changed, "group": group.pk}


def _batch(project, event):
    """The unit events of the assignment ``event`` belongs to (by its ``change`` key; an
    event written before assignments had one stands alone)."""
    key = (event.after or {}).get("change")
    if key is None:
        return [event]
    return list(
        Event.objects.filter(
            project=project, actor_id=event.actor_id, verb__in=UNIT_VERBS, after__change=key
        ).order_by("id")
    )


def _merge_batch(project, event):
    """The unit events of the merge ``event``: the latest assignment by the merger that moved
    units out of the merged group into the group it was merged into, before the merge's own
    event (the merge wrote them in the same transaction)."""
    if not event.after.get("units"):
        return []
    latest = (
        Event.objects.filter(
            project=project,
            actor_id=event.actor_id,
            verb="unit.assigned",
            before__group=event.target_id,
            after__group=event.after["into"],
            pk__lt=event.pk,
        )
        .order_by("-id")
        .first()
    )
    batch = [] if latest is None else _batch(project, latest)
    if len(batch) != event.after["units"]:
        raise Conflict(
            "The units this merge moved cannot be told apart from other changes any more.",
            code="not_undoable",
        )
    return batch


def _undone(project, event, batch):
    keys = {event.pk, *((row.after or {}).get("change") for row in batch)} - {None}
    return Event.objects.filter(project=project, after__undoes__in=list(keys)).exists()


def _changed_since(project, batch):
    """The labels of the units of ``batch`` whose group changed after it."""
    if not batch:
        return []
    last = max(row.pk for row in batch)
    return sorted(
        set(
            Event.objects.filter(
                project=project,
                target_type="unit",
                target_id__in=[row.target_id for row in batch],
                verb__in=UNIT_VERBS,
                pk__gt=last,
            ).values_list("target_label", flat=True)
        )
    )


def _refuse_done_or_changed(project, event, batch):
    if _undone(project, event, batch):
        raise Conflict("This change was undone already.", code="already_undone")
    if changed := _changed_since(project, batch):
        raise Conflict(
            "These units changed group since, so the change cannot be undone: "
            + ", ".join(changed),
            code="undo_conflict",
            fields={"units": changed},
        )
