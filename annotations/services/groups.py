"""Use cases on the taxonomy: create, edit, move, merge and delete groups, and put units into
groups directly (without a hypothesis).

Edits follow the If-Match convention: the version check and the write are one conditional
UPDATE. Changes to the shape of a project's tree (create, move, merge, delete) also take the
project's row lock first, so two moves at once cannot build a cycle between them.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from annotations.colors import color_unused, is_color
from annotations.models import Assignment, Group, Project, ProjectNetwork
from annotations.policies import ACTION_ROLES, authorize, can, role_in_project
from annotations.services.assignments import (
    MAX_UNITS_PER_REQUEST,
    assignments_apply,
    units_for_project,
)
from annotations.services.events import event_build, event_log, events_record
from annotations.services.grid_changes import project_changed
from server.concurrency import stale
from server.errors import Conflict, NotFound, PermissionDenied, Unprocessable, ValidationFailed

EDITABLE = frozenset({"name", "description", "color", "order", "layer"})


def group_create(
    *, project, actor, name, parent=None, description="", color=None, order=0, layer=None
):
    """Create a group at the root or under ``parent``; ``layer`` limits it to one layer.
    Without a ``color`` the group takes the first palette colour no group of the project has."""
    authorize(actor=actor, action="group.create", obj=project)
    values = {"name": name, "description": description, "order": order}
    values = _clean(values if color is None else {**values, "color": color})
    _check_same_project(project.pk, parent, "parent")
    _check_layer(project.pk, layer)
    try:
        with transaction.atomic():
            _lock_tree(project.pk)
            parent = _reload(parent, "parent")
            if color is None:
                # Under the tree lock: two groups made at once get different colours.
                used = Group.objects.filter(project=project).values_list("color", flat=True)
                values["color"] = color_unused(used)
            group = Group.objects.create(
                project=project, parent=parent, layer=layer, created_by=actor, **values
            )
            event_log(group, "group.created", actor=actor, after=_snapshot(group))
            project_changed(project_id=project.pk)
    except IntegrityError as error:
        raise _name_taken(values["name"]) from error
    return group


def group_update(*, group, actor, expected_version, **changes):
    """Edit any of ``name``, ``description``, ``color``, ``order`` and ``layer`` (None lifts
    the layer scope). Writes ``group.renamed`` when the name changes, else ``group.updated``."""
    if not changes or set(changes) - EDITABLE:
        raise TypeError(f"group_update edits some of {sorted(EDITABLE)}, got {sorted(changes)}")
    authorize(actor=actor, action="group.update", obj=group)
    layer_given = "layer" in changes
    layer = changes.pop("layer", None)
    changes = _clean(changes)
    if layer_given:
        _check_layer(group.project_id, layer)
    _require_version(group, expected_version)
    before = _snapshot(group)
    after = {**before, **changes}
    if layer_given:
        after["layer"] = layer.pk if layer else None
    changed = [field for field in before if before[field] != after[field]]
    if not changed:
        return group
    fields = {field: changes[field] for field in changed if field != "layer"}
    if "layer" in changed:
        fields["layer"] = layer
    try:
        with transaction.atomic():
            _write(group, expected_version, **fields)
            if "layer" in changed and layer is not None:
                _refuse_units_outside(group, layer, scoped=group)
            event_log(
                group,
                "group.renamed" if "name" in changed else "group.updated",
                actor=actor,
                before={field: before[field] for field in changed},
                after={field: after[field] for field in changed},
            )
            project_changed(project_id=group.project_id)
    except IntegrityError as error:
        raise _name_taken(changes.get("name", group.name)) from error
    return group


def group_move(*, group, actor, expected_version, parent):
    """Put ``group`` under ``parent`` (None: at the root); never under itself or a descendant."""
    authorize(actor=actor, action="group.update", obj=group)
    _check_same_project(group.project_id, parent, "parent")
    _require_version(group, expected_version)
    before = group.parent_id
    if before == (parent.pk if parent else None):
        return group
    try:
        with transaction.atomic():
            _lock_tree(group.project_id)
            parent = _reload(parent, "parent")
            if parent is not None and group.pk in _ancestry(group.project_id, parent.pk):
                raise Conflict(
                    f"{parent.name} is inside {group.name}; a group cannot go under itself "
                    "or one of its subgroups.",
                    code="cycle",
                    fields={"parent": ["Inside the group being moved."]},
                )
            _write(group, expected_version, parent=parent)
            event_log(
                group,
                "group.moved",
                actor=actor,
                before={"parent": before},
                after={"parent": group.parent_id},
            )
            project_changed(project_id=group.project_id)
    except IntegrityError as error:
        raise _name_taken(group.name) from error
    return group


def group_merge(*, group, into, actor, expected_version):
    """Merge ``group`` into ``into``: its units and subgroups move to ``into``, then it is
    deleted. Returns ``into``.

    The units change group in place, keeping their note and provenance (source, hypothesis):
    a merge says two groups were one all along, so it is not a new assignment of each unit.
    """
    authorize(actor=actor, action="group.merge", obj=group)
    if into.pk == group.pk:
        raise Unprocessable(
            "A group cannot be merged into itself.",
            code="merge_into_self",
            fields={"into": ["The group being merged."]},
        )
    _check_same_project(group.project_id, into, "into")
    _require_version(group, expected_version)
    with transaction.atomic():
        _lock_tree(group.project_id)
        _write(group, expected_version)
        into = _reload(into, "into")
        children = list(Group.objects.filter(parent=group).order_by("pk"))
        _refuse_merge(group, into, children)
        units = [
            row.unit
            for row in Assignment.objects.filter(group=group)
            .select_related("unit__layer")
            .order_by("unit_id")
        ]
        project = group.project
        assignments_apply(
            project=project,
            changes=[(unit, into) for unit in units],
            actor=actor,
            check_permission=False,
            keep_provenance=True,
        )
        Group.objects.filter(parent=group).update(
            parent=into, updated_at=timezone.now(), version=F("version") + 1
        )
        events_record(
            [
                *(
                    event_build(
                        child,
                        "group.moved",
                        actor=actor,
                        project=project,
                        before={"parent": group.pk},
                        after={"parent": into.pk},
                    )
                    for child in children
                ),
                event_build(
                    group,
                    "group.merged",
                    actor=actor,
                    project=project,
                    before=_snapshot(group),
                    after={
                        "into": into.pk,
                        "units": len(units),
                        "children": [child.pk for child in children],
                    },
                ),
            ]
        )
        project_changed(project_id=project.pk)
        Group.objects.filter(pk=group.pk).delete()
    return into


def group_delete(*, group, actor, expected_version):
    """Delete ``group`` if it is empty: no units and no subgroups (else ``group_not_empty``)."""
    authorize(actor=actor, action="group.delete", obj=group)
    _require_version(group, expected_version)
    with transaction.atomic():
        _lock_tree(group.project_id)
        _write(group, expected_version)
        units = Assignment.objects.filter(group=group).count()
        children = Group.objects.filter(parent=group).count()
        if units or children:
            raise Conflict(
                f"{group.name} still has {units} units and {children} subgroups; move or merge "
                "them first.",
                code="group_not_empty",
            )
        event_log(group, "group.deleted", actor=actor, before=_snapshot(group))
        project_changed(project_id=group.project_id)
        Group.objects.filter(pk=group.pk).delete()


def unit_assign(*, project, unit, group, actor, note=""):
    """Put ``unit`` into ``group`` (None: out of any group) without a hypothesis.

    Returns the unit's Assignment afterwards, or None when it is in no group."""
    direct_assignment_authorize(project=project, actor=actor)
    assignments_apply(
        project=project, changes=[(unit, group)], actor=actor, note=note, check_permission=False
    )
    return (
        Assignment.objects.filter(project=project, unit=unit).select_related("assigned_by").first()
    )


def units_assign(*, project, network, addresses, group, actor, note=""):
    """Put the units of ``network`` at ``addresses`` ("layer:index") into ``group`` (None: out
    of any group), all or nothing. Returns how many units changed group."""
    direct_assignment_authorize(project=project, actor=actor)
    if len(addresses) > MAX_UNITS_PER_REQUEST:
        raise ValidationFailed(
            f"At most {MAX_UNITS_PER_REQUEST} units per request.", fields={"units": ["Too many."]}
        )
    units = units_for_project(project=project, network=network, addresses=addresses)
    return assignments_apply(
        project=project,
        changes=[(unit, group) for unit in units],
        actor=actor,
        note=note,
        check_permission=False,
    )


def direct_assignment_authorize(*, project, actor):
    """Raise PermissionDenied unless ``actor`` may change groups without a hypothesis; the
    message says when the project's policy, not the role, is what refuses."""
    if actor is None or can(actor, "assignment.apply", project):
        return
    role = role_in_project(actor, project)
    if project.assignments_need_review and role in ACTION_ROLES["assignment.apply"]:
        raise PermissionDenied(
            "In this project units change group only through reviewed hypotheses; propose a "
            "hypothesis with this assignment instead.",
            code="hypothesis_required",
        )
    raise PermissionDenied("Your role does not allow assignment.apply.")


def _clean(values):
    """``values`` checked against the Group fields' rules; names lose surrounding spaces."""
    if "name" in values:
        values = {**values, "name": str(values["name"]).strip()}
    fields = {}
    for field, value in values.items():
        try:
            Group._meta.get_field(field).clean(value, None)
        except ValidationError as error:
            fields[field] = error.messages
    if "color" in values and not is_color(values["color"]):
        fields["color"] = ["Write a color as #rrggbb."]
    if fields:
        raise ValidationFailed("The group has invalid fields.", fields=fields)
    if "color" in values:
        values = {**values, "color": values["color"].lower()}
    return values


def _check_same_project(project_id, group, field):
    if group is not None and group.project_id != project_id:
        raise ValidationFailed(
            f"Group {group.pk} is not in this project.", fields={field: ["Not in this project."]}
        )


def _check_layer(project_id, layer):
    if layer is None:
        return
    if not ProjectNetwork.objects.filter(
        project_id=project_id, network_id=layer.network_id
    ).exists():
        raise ValidationFailed(
            f"Layer {layer.name} is not in a network of this project.",
            fields={"layer": ["Not in this project."]},
        )


def _reload(group, field):
    """Inside the tree lock: ``group`` (a parent or merge target) as it is now."""
    if group is None:
        return None
    current = Group.objects.select_related("layer").filter(pk=group.pk).first()
    if current is None:
        raise ValidationFailed(
            f"Group {group.pk} no longer exists.", fields={field: ["No longer exists."]}
        )
    return current


def _require_version(group, expected_version):
    """The loaded ``group`` must be the version the client read: its fields are then what the
    conditional UPDATE replaces, which the event records as ``before``."""
    if group.version == expected_version:
        return
    try:
        group.refresh_from_db()
    except Group.DoesNotExist as error:
        raise NotFound(f"No group {group.pk} in this project.") from error
    if group.version != expected_version:
        raise stale("group", group.version)


def _write(group, expected_version, **fields):
    """The If-Match check and the write as one conditional UPDATE: 412 when it matches no row
    at ``expected_version`` (404 when the group is gone)."""
    now = timezone.now()
    updated = Group.objects.filter(pk=group.pk, version=expected_version).update(
        **fields, updated_at=now, version=F("version") + 1
    )
    if not updated:
        current = Group.objects.filter(pk=group.pk).values_list("version", flat=True).first()
        if current is None:
            raise NotFound(f"No group {group.pk} in this project.")
        raise stale("group", current)
    for field, value in fields.items():
        setattr(group, field, value)
    group.version = expected_version + 1
    group.updated_at = now


def _lock_tree(project_id):
    Project.objects.select_for_update().get(pk=project_id)


def _ancestry(project_id, group_id):
    """``group_id`` and the ids of every group above it."""
    parents = dict(Group.objects.filter(project_id=project_id).values_list("pk", "parent_id"))
    chain = set()
    while group_id is not None and group_id not in chain:
        chain.add(group_id)
        group_id = parents.get(group_id)
    return chain


def _refuse_merge(group, into, children):
    """The merge would build a cycle, leave units outside ``into``'s layer, or give ``into``
    two subgroups of one name."""
    if group.pk in _ancestry(group.project_id, into.pk):
        raise Conflict(
            f"{into.name} is inside {group.name}; merge the other way round or move it out first.",
            code="cycle",
            fields={"into": ["Inside the group being merged."]},
        )
    if into.layer_id is not None:
        _refuse_units_outside(group, into.layer, scoped=into)
    taken = sorted(
        Group.objects.filter(parent=into, name__in=[child.name for child in children]).values_list(
            "name", flat=True
        )
    )
    if taken:
        raise Conflict(
            f"{into.name} already has subgroups named {', '.join(taken)}; rename them first.",
            code="name_taken",
            fields={"into": [f"Has a subgroup named {name}." for name in taken]},
        )


def _refuse_units_outside(group, layer, *, scoped):
    outside = Assignment.objects.filter(group=group).exclude(unit__layer=layer).count()
    if outside:
        raise Conflict(
            f"{outside} units of {group.name} are outside layer {layer.name}, the only layer "
            f"of {scoped.name}; move them first.",
            code="layer_scope_conflict",
            fields={"layer": [f"{outside} units are in other layers."]},
        )


def _snapshot(group):
    return {
        "name": group.name,
        "description": group.description,
        "color": group.color,
        "order": group.order,
        "parent": group.parent_id,
        "layer": group.layer_id,
    }


def _name_taken(name):
    return Conflict(
        f"A group named {name!r} already exists there.",
        code="name_taken",
        fields={"name": ["Taken by another group with the same parent."]},
    )
