"""Importing a taxonomy into a project: check the whole file against the catalog and the
project, report what would change (a dry run), or apply it all at once.

Groups are matched by path (their names from the root) and created as needed; each unit the
file lists goes into its group; units it does not list are left alone; hypotheses it holds are
added unless the project has them already (same title, author and units). Importing the same
file twice changes nothing the second time. An apply writes one ``taxonomy.imported`` event,
and, so that every object's history shows the change, one event per created or changed group
and per unit that changed group (written in bulk, pointing at the import event).

The people a file names (who assigned a unit, wrote or reviewed a hypothesis, made a circuit or
a link) are kept only when they are members of the project; anyone else becomes nobody, so a
file cannot put work in the name of someone outside the team.
"""

from collections import Counter

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from annotations.formats.import_files import KEEP, read_import_file
from annotations.models import (
    Assignment,
    Group,
    Hypothesis,
    HypothesisUnit,
    Project,
    ProjectNetwork,
    Review,
)
from annotations.policies import authorize
from annotations.selectors.projects import members_by_username
from annotations.services.assignments import ACTOR, Change, assignments_apply
from annotations.services.events import event_build, event_log, events_record
from annotations.services.grid_changes import project_changed
from annotations.services.import_changes import ImportChanges
from annotations.services.import_circuits import project_group_paths
from annotations.services.unit_counts import unit_counts_add_open_hypotheses
from server.errors import Conflict, ValidationFailed
from workers.models import Unit

BATCH_SIZE = 1000


def taxonomy_import(*, project, network, actor, format, content, dry_run=False):
    """Import ``content`` (text or bytes of a ``json`` or ``csv`` file) into the taxonomy of
    ``project`` on ``network``; with ``dry_run`` nothing is written. Returns the report: what
    changed (or would), per kind of change. A bad file raises ValidationFailed naming each bad
    row (``rows.<line>`` in a CSV, ``units.<i>``, ``groups.<i>``, ... in JSON)."""
    authorize(actor=actor, action="taxonomy.import", obj=project)
    if not ProjectNetwork.objects.filter(project=project, network=network).exists():
        raise ValidationFailed(
            f"This project does not study {network.name}.",
            fields={"network": ["Not a network of this project."]},
        )
    plan = read_import_file(format=format, content=content)
    _check_network(plan, network)
    try:
        with transaction.atomic():
            Project.objects.select_for_update().get(pk=project.pk)
            changes = ImportChanges(project, network, plan, actor)
            report = changes.report(dry_run=dry_run)
            if dry_run or not report["changed"]:
                return report
            report["event"] = _apply(changes)
    except IntegrityError as error:
        # A unit was given a group between the check and the write by a writer that did not
        # take the project lock (every assignment service does).
        raise Conflict(
            "The taxonomy changed while the file was imported; nothing was imported. Try again.",
            code="import_conflict",
        ) from error
    return report


def _check_network(plan, network):
    problems = plan.problems
    if plan.format == "json":
        expected = {
            "name": network.name,
            "arch": network.arch,
            "weights_sha256": network.weights_sha256,
            "random_seed": network.random_seed,
        }
        differ = [key for key, value in expected.items() if plan.network.get(key) != value]
        if differ:
            problems.add(
                "network",
                f"The file is for network {plan.network['name']!r} "
                f"({', '.join(f'{key} {plan.network.get(key)!r}' for key in differ)}); this "
                f"import is into {network.name!r} "
                f"({', '.join(f'{key} {expected[key]!r}' for key in differ)}).",
            )
            # Every row would be wrong too; the network is the one thing to report.
            problems.raise_if_any("The file")
    for where, name in plan.network_rows.items():
        if name != network.name:
            problems.add(where, f"Network {name!r} is not {network.name!r}, the one imported into.")


def _apply(changes):
    """Write every change; returns the id of the one ``taxonomy.imported`` event."""
    project, actor = changes.project, changes.actor
    summary = changes.report(dry_run=False)
    event = event_log(
        project,
        "taxonomy.imported",
        actor=actor,
        after={
            key: summary[key]
            for key in (
                "network",
                "format",
                "groups_created",
                "groups_updated",
                "units_assigned",
                "units_moved",
                "units_unassigned",
                "hypotheses_created",
                "circuits_created",
                "links_created",
            )
        },
    )
    groups = _apply_groups(changes, event.pk)
    _apply_units(changes, groups, event.pk)
    circuit_ids, events = changes.circuit_import.apply_circuits(event.pk)
    events.extend(_apply_hypotheses(changes, groups, event.pk, circuit_ids))
    links, _ = changes.circuit_import.links_planned({**project_group_paths(project), **groups})
    events.extend(changes.circuit_import.apply_links(links, event.pk))
    events_record(events)
    project_changed(project_id=project.pk)
    outside = (
        Assignment.objects.filter(project=project, group__layer__isnull=False)
        .exclude(unit__layer=F("group__layer"))
        .count()
    )
    if outside:
        raise Conflict(
            f"After this import {outside} units would sit in groups meant for another "
            "layer; nothing was imported.",
            code="layer_scope_conflict",
        )
    return event.pk


def _apply_groups(changes, import_event):
    """Create and update the planned groups, with their events; returns ``{path: group
    id}`` of every group of the project."""
    groups = {path: row["pk"] for path, row in changes.existing.items()}
    events = []
    now = timezone.now()
    # One INSERT per depth of the tree: a level's parents exist once the level above is in.
    for depth in sorted({len(spec.path) for spec, _ in changes.created}):
        level = [(spec, values) for spec, values in changes.created if len(spec.path) == depth]
        created = Group.objects.bulk_create(
            Group(
                project=changes.project,
                parent_id=groups.get(spec.path[:-1]),
                name=spec.path[-1],
                description=values["description"],
                color=values["color"],
                order=values["order"],
                layer=changes.layers.get(values["layer"]) if values["layer"] else None,
                created_by=changes.actor,
            )
            for spec, values in level
        )
        for (spec, values), group in zip(level, created, strict=True):
            groups[spec.path] = group.pk
            events.append(
                _event(
                    changes,
                    group,
                    "group.created",
                    after={**values, "parent": group.parent_id, "import": import_event},
                )
            )
    for _, row, _, wanted in changes.updated:
        fields = dict(wanted)
        if "layer" in fields:
            fields["layer"] = changes.layers.get(fields["layer"]) if fields["layer"] else None
        Group.objects.filter(pk=row["pk"]).update(
            **fields, updated_at=now, version=F("version") + 1
        )
    updated = Group.objects.in_bulk([row["pk"] for _, row, _, _ in changes.updated])
    events.extend(
        _event(
            changes,
            updated[row["pk"]],
            "group.updated",
            before={name: current[name] for name in wanted},
            after={**wanted, "import": import_event},
        )
        for _, row, current, wanted in changes.updated
    )
    # The groups' events go before their units' (written by assignments_apply).
    events_record(events)
    return groups


def _apply_units(changes, groups, import_event):
    """Put the planned units into their groups, keeping the note and (when a member) the
    assigner the file gives."""
    users = members_by_username(
        project=changes.project,
        usernames={unit.assigned_by for unit, *_ in changes.assigned + changes.moved},
    )
    by_pk = Group.objects.filter(project=changes.project).select_related("layer").in_bulk()
    units = [
        Change(
            unit=Unit(
                pk=unit_id,
                network=changes.network,
                layer=changes.layers[unit.layer],
                index=unit.index,
            ),
            group=by_pk[groups[unit.group]] if unit.group else None,
            note=unit.note,
            assigned_by=ACTOR if unit.assigned_by is KEEP else users.get(unit.assigned_by),
        )
        for unit, unit_id, *_ in [*changes.assigned, *changes.moved, *changes.unassigned]
    ]
    assignments_apply(
        project=changes.project,
        changes=units,
        actor=changes.actor,
        source=Assignment.Source.IMPORT,
        check_permission=False,
        event_after={"import": import_event},
    )


def _apply_hypotheses(changes, groups, import_event, circuit_ids):
    """Create the planned hypotheses with their units and reviews; returns their events."""
    paths = changes.plan.group_paths_by_id
    created = Hypothesis.objects.bulk_create(
        Hypothesis(
            project=changes.project,
            network=changes.network,
            author=author,
            title=document["title"],
            text=document.get("text", ""),
            status=document["status"],
            group_id=_mapped(groups, paths, document.get("group")),
            proposed_group_id=_mapped(groups, paths, document.get("proposed_group")),
            new_group=_new_group(document.get("new_group"), groups, paths),
            evidence=evidence,
            evidence_circuits=[
                circuit_ids[name]
                for name in document.get("evidence_circuits", [])
                if name in circuit_ids
            ],
            circuit_id=circuit_ids.get(document.get("circuit")),
            version=document.get("version", 1),
            accepted_at=parse_datetime(document.get("accepted_at") or "") or None,
        )
        for document, author, _, evidence in changes.hypotheses
    )
    HypothesisUnit.objects.bulk_create(
        (
            HypothesisUnit(hypothesis=hypothesis, unit_id=unit_id)
            for hypothesis, (_, _, unit_ids, _) in zip(created, changes.hypotheses, strict=True)
            for unit_id in unit_ids
        ),
        batch_size=BATCH_SIZE,
    )
    _count_open_units(changes, created)
    Review.objects.bulk_create(
        (
            Review(
                hypothesis=hypothesis,
                reviewer=changes.users.get(review.get("reviewer")),
                verdict=review["verdict"],
                comment=review.get("comment", ""),
                version=review["version"],
            )
            for hypothesis, (document, *_) in zip(created, changes.hypotheses, strict=True)
            for review in document.get("reviews", [])
        ),
        batch_size=BATCH_SIZE,
    )
    return [
        _event(
            changes,
            hypothesis,
            "hypothesis.imported",
            after={"status": hypothesis.status, "import": import_event},
        )
        for hypothesis in created
    ]


def _count_open_units(changes, created):
    """The grid's open-hypothesis counts of the units that imported open hypotheses name."""
    unit_counts_add_open_hypotheses(
        project_id=changes.project.pk,
        open_hypotheses_by_unit=Counter(
            unit_id
            for hypothesis, (_, _, unit_ids, _) in zip(created, changes.hypotheses, strict=True)
            if hypothesis.status == Hypothesis.Status.OPEN
            for unit_id in unit_ids
        ),
    )


def _event(changes, instance, verb, *, before=None, after=None):
    return event_build(
        instance, verb, actor=changes.actor, project=changes.project, before=before, after=after
    )


def _new_group(new_group, groups, paths):
    """A proposed new group's parent, from the file's ids to this project's."""
    if new_group and new_group.get("parent") in paths:
        return {**new_group, "parent": groups[paths[new_group["parent"]]]}
    return new_group


def _mapped(groups, paths, doc_id):
    return groups[paths[doc_id]] if doc_id is not None else None
