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

from annotations.formats.import_files import KEEP, GroupSpec, read_import_file
from annotations.formats.taxonomy_export import PATH_SEPARATOR
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
from annotations.services.import_circuits import CircuitImport, project_group_paths
from annotations.services.unit_counts import unit_counts_add_open_hypotheses
from server.errors import Conflict, ValidationFailed
from workers.models import Artifact, Layer, Unit

BATCH_SIZE = 1000
MAX_LISTED_CHANGES = 1000
DEFAULTS = {"description": "", "color": "#888888", "order": 0, "layer": None}


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
            changes = _Changes(project, network, plan, actor)
            report = changes.report(dry_run=dry_run)
            if dry_run or not report["changed"]:
                return report
            report["event"] = changes.apply()
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


class _Changes:
    """What an import file changes in a project, worked out inside the import's lock."""

    def __init__(self, project, network, plan, actor):
        self.project, self.network, self.plan, self.actor = project, network, plan, actor
        self.problems = plan.problems
        self.layers = {layer.name: layer for layer in Layer.objects.filter(network=network)}
        self._read_groups()
        if plan.format == "simple_csv":
            self._resolve_simple_groups()
        self._plan_groups()
        self._plan_units()
        self.circuit_import = CircuitImport(
            project=project, network=network, plan=plan, problems=self.problems, actor=actor
        )
        self._plan_hypotheses()
        self.problems.raise_if_any("The file")

    # Groups.

    def _read_groups(self):
        rows = list(
            Group.objects.filter(project=self.project).values(
                "pk", "parent_id", "name", "description", "color", "order", "layer__name"
            )
        )
        by_pk = {row["pk"]: row for row in rows}

        def path(row):
            names = []
            while row is not None:
                names.append(row["name"])
                row = by_pk.get(row["parent_id"])
            return tuple(reversed(names))

        self.existing = {}
        self.paths_by_pk = {}
        for row in rows:
            self.existing[path(row)] = row
            self.paths_by_pk[row["pk"]] = path(row)

    def _resolve_simple_groups(self):
        """Give each group name of a simple CSV a path: its parent from the file, else the
        project's one group of that name, else a new group at the root."""
        parents, lines = self.plan.simple_parents, self.plan.simple_lines
        named = {}
        for path in self.existing:
            named.setdefault(path[-1], []).append(path)
        resolved, wheres = {}, {}

        def resolve(name, where, seen):
            if name in resolved:
                return resolved[name]
            wheres.setdefault(name, where)
            parent = parents.get(name, "")
            if name in seen:
                self.problems.add(where, f"Group {name!r} is inside itself (a cycle of parents).")
                return None
            found = named.get(name, [])
            if parent:
                above = resolve(parent, lines.get(parent, where), seen | {name})
                if above is None:
                    return None
                path = (*above, name)
                elsewhere = [other for other in found if other != path]
                if elsewhere and path not in found:
                    self.problems.add(
                        where,
                        f"Group {name!r} collides: the project has it at "
                        f"{_show(elsewhere[0])}, the file puts it under {parent!r}.",
                    )
                    return None
            elif len(found) > 1:
                self.problems.add(
                    where,
                    f"Group {name!r} is ambiguous: the project has "
                    f"{' and '.join(_show(other) for other in sorted(found))}; give parent_group.",
                )
                return None
            else:
                path = found[0] if found else (name,)
            resolved[name] = path
            return path

        for name, where in lines.items():
            resolve(name, where, frozenset())
        specs = {}
        for name, path in resolved.items():
            if path is None:
                continue
            for depth in range(1, len(path)):
                specs.setdefault(path[:depth], GroupSpec(path=path[:depth], where=wheres[name]))
            description = self.plan.simple_descriptions.get(name, KEEP)
            specs[path] = GroupSpec(path=path, where=wheres[name], description=description)
        self.plan.groups = list(specs.values())
        for unit in self.plan.units:
            unit.group = resolved.get(unit.group)

    def _plan_groups(self):
        self.created, self.updated = [], []
        self.scopes = {path: row["layer__name"] for path, row in self.existing.items()}
        for spec in sorted(self.plan.groups, key=lambda spec: spec.path):
            if spec.layer not in (KEEP, None) and spec.layer not in self.layers:
                self.problems.add(
                    spec.where, f"No layer {spec.layer!r} in {self.network.name} for the scope."
                )
                continue
            row = self.existing.get(spec.path)
            if row is None:
                values = {
                    name: DEFAULTS[name] if getattr(spec, name) is KEEP else getattr(spec, name)
                    for name in DEFAULTS
                }
                self.created.append((spec, values))
                self.scopes[spec.path] = values["layer"]
                continue
            current = {
                "description": row["description"],
                "color": row["color"],
                "order": row["order"],
                "layer": row["layer__name"],
            }
            wanted = {
                name: getattr(spec, name)
                for name in DEFAULTS
                if getattr(spec, name) is not KEEP and getattr(spec, name) != current[name]
            }
            if wanted:
                self.updated.append((spec, row, current, wanted))
                self.scopes[spec.path] = wanted.get("layer", current["layer"])

    # Units.

    def _plan_units(self):
        plan = self.plan
        catalog = {
            (layer, index): (pk, layer_id)
            for pk, layer, index, layer_id in Unit.objects.filter(
                network=self.network, layer__name__in={unit.layer for unit in plan.units}
            ).values_list("pk", "layer__name", "index", "layer_id")
        }
        current = {
            unit_id: (pk, group_id)
            for pk, unit_id, group_id in Assignment.objects.filter(
                project=self.project, unit__network=self.network
            ).values_list("pk", "unit_id", "group_id")
        }
        seen = {}
        self.assigned, self.moved, self.unassigned, self.unchanged = [], [], [], 0
        for unit in plan.units:
            address = f"{unit.layer}:{unit.index}"
            if unit.layer not in self.layers:
                self.problems.add(unit.where, f"No layer {unit.layer!r} in {self.network.name}.")
                continue
            if (unit.layer, unit.index) not in catalog:
                self.problems.add(unit.where, f"No unit {address} in {self.network.name}.")
                continue
            if address in seen:
                self.problems.add(
                    unit.where, f"{address} is listed twice (first at {seen[address]})."
                )
                continue
            seen[address] = unit.where
            if unit.group is None and plan.format == "simple_csv":
                continue
            scope = self.scopes.get(unit.group) if unit.group else None
            if scope is not None and scope != unit.layer:
                self.problems.add(
                    unit.where,
                    f"{address} cannot go into {_show(unit.group)}, which is for layer {scope}.",
                )
                continue
            unit_id, _ = catalog[(unit.layer, unit.index)]
            row = current.get(unit_id)
            before = self.paths_by_pk.get(row[1]) if row else None
            change = (unit, unit_id, address, row, before)
            if before == unit.group:
                self.unchanged += 1
            elif unit.group is None:
                self.unassigned.append(change)
            elif row is None:
                self.assigned.append(change)
            else:
                self.moved.append(change)

    # Hypotheses.

    def _plan_hypotheses(self):
        self.hypotheses, self.hypotheses_unchanged = [], 0
        if not self.plan.hypotheses:
            return
        usernames = {h.get("author") for h in self.plan.hypotheses} | {
            review.get("reviewer") for h in self.plan.hypotheses for review in h.get("reviews", [])
        }
        self.users = members_by_username(project=self.project, usernames=usernames)
        existing = set()
        for hypothesis in Hypothesis.objects.filter(
            project=self.project, network=self.network
        ).prefetch_related("units__unit__layer", "author"):
            units = sorted(
                f"{row.unit.layer.name}:{row.unit.index}" for row in hypothesis.units.all()
            )
            author = hypothesis.author.username if hypothesis.author else None
            existing.add((hypothesis.title, author, tuple(units)))
        catalog = {
            f"{layer}:{index}": pk
            for pk, layer, index in Unit.objects.filter(network=self.network).values_list(
                "pk", "layer__name", "index"
            )
        }
        artifacts = set(
            Artifact.objects.filter(
                network=self.network,
                pk__in={pk for h in self.plan.hypotheses for pk in h.get("evidence", [])},
            ).values_list("pk", flat=True)
        )
        for hypothesis in self.plan.hypotheses:
            where = hypothesis["where"]
            units = hypothesis["units"]
            unknown = [address for address in units if address not in catalog]
            if unknown:
                self.problems.add(where, f"No units {', '.join(unknown)} in {self.network.name}.")
                continue
            if len(set(units)) != len(units):
                self.problems.add(where, "A unit is listed twice.")
                continue
            circuit_problem = self.circuit_import.circuit_problem(hypothesis.get("circuit"))
            if circuit_problem:
                self.problems.add(f"{where}.circuit", circuit_problem)
                continue
            author = self.users.get(hypothesis.get("author"))
            key = (hypothesis["title"], author.username if author else None, tuple(sorted(units)))
            if key in existing:
                self.hypotheses_unchanged += 1
                continue
            existing.add(key)
            evidence = [pk for pk in hypothesis.get("evidence", []) if pk in artifacts]
            self.hypotheses.append((hypothesis, author, [catalog[a] for a in units], evidence))

    # The report and the apply.

    def report(self, *, dry_run):
        unit_changes = [
            {
                "unit": address,
                "from": _show(before) if before else None,
                "to": _show(unit.group) if unit.group else None,
            }
            for unit, _, address, _, before in [*self.assigned, *self.moved, *self.unassigned]
        ]
        circuits = self.circuit_import
        # Groups the import would create stand in by negative ids: new, so never a duplicate.
        group_ids = project_group_paths(self.project)
        group_ids.update(
            (tuple(spec.path), -position) for position, (spec, _) in enumerate(self.created, 1)
        )
        links, links_skipped = circuits.links_planned(group_ids)
        changed = bool(
            self.created
            or self.updated
            or unit_changes
            or self.hypotheses
            or circuits.circuits
            or links
        )
        return {
            "network": self.network.name,
            "format": self.plan.format,
            "dry_run": dry_run,
            "changed": changed,
            "groups_created": [_show(spec.path) for spec, _ in self.created],
            "groups_updated": [
                {"group": _show(spec.path), "fields": sorted(wanted)}
                for spec, _, _, wanted in self.updated
            ],
            "units_assigned": len(self.assigned),
            "units_moved": len(self.moved),
            "units_unassigned": len(self.unassigned),
            "units_unchanged": self.unchanged,
            "unit_changes": unit_changes[:MAX_LISTED_CHANGES],
            "unit_changes_truncated": len(unit_changes) > MAX_LISTED_CHANGES,
            "hypotheses_created": len(self.hypotheses),
            "hypotheses_unchanged": self.hypotheses_unchanged,
            "circuits_created": len(circuits.circuits),
            "circuits_unchanged": circuits.circuits_unchanged,
            "links_created": len(links),
            "links_skipped": links_skipped,
            "event": None,
        }

    def apply(self):
        """Write every change; returns the id of the one ``taxonomy.imported`` event."""
        project, actor = self.project, self.actor
        summary = self.report(dry_run=False)
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
        groups = self._apply_groups(event.pk)
        self._apply_units(groups, event.pk)
        circuit_ids, events = self.circuit_import.apply_circuits(event.pk)
        events.extend(self._apply_hypotheses(groups, event.pk, circuit_ids))
        links, _ = self.circuit_import.links_planned({**project_group_paths(project), **groups})
        events.extend(self.circuit_import.apply_links(links, event.pk))
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

    def _apply_groups(self, import_event):
        """Create and update the planned groups, with their events; returns ``{path: group
        id}`` of every group of the project."""
        groups = {path: row["pk"] for path, row in self.existing.items()}
        events = []
        now = timezone.now()
        # One INSERT per depth of the tree: a level's parents exist once the level above is in.
        for depth in sorted({len(spec.path) for spec, _ in self.created}):
            level = [(spec, values) for spec, values in self.created if len(spec.path) == depth]
            created = Group.objects.bulk_create(
                Group(
                    project=self.project,
                    parent_id=groups.get(spec.path[:-1]),
                    name=spec.path[-1],
                    description=values["description"],
                    color=values["color"],
                    order=values["order"],
                    layer=self.layers.get(values["layer"]) if values["layer"] else None,
                    created_by=self.actor,
                )
                for spec, values in level
            )
            for (spec, values), group in zip(level, created, strict=True):
                groups[spec.path] = group.pk
                events.append(
                    self._event(
                        group,
                        "group.created",
                        after={**values, "parent": group.parent_id, "import": import_event},
                    )
                )
        for _, row, _, wanted in self.updated:
            fields = dict(wanted)
            if "layer" in fields:
                fields["layer"] = self.layers.get(fields["layer"]) if fields["layer"] else None
            Group.objects.filter(pk=row["pk"]).update(
                **fields, updated_at=now, version=F("version") + 1
            )
        updated = Group.objects.in_bulk([row["pk"] for _, row, _, _ in self.updated])
        events.extend(
            self._event(
                updated[row["pk"]],
                "group.updated",
                before={name: current[name] for name in wanted},
                after={**wanted, "import": import_event},
            )
            for _, row, current, wanted in self.updated
        )
        # The groups' events go before their units' (written by assignments_apply).
        events_record(events)
        return groups

    def _apply_units(self, groups, import_event):
        """Put the planned units into their groups, keeping the note and (when a member) the
        assigner the file gives."""
        users = members_by_username(
            project=self.project,
            usernames={unit.assigned_by for unit, *_ in self.assigned + self.moved},
        )
        by_pk = Group.objects.filter(project=self.project).select_related("layer").in_bulk()
        changes = [
            Change(
                unit=Unit(
                    pk=unit_id,
                    network=self.network,
                    layer=self.layers[unit.layer],
                    index=unit.index,
                ),
                group=by_pk[groups[unit.group]] if unit.group else None,
                note=unit.note,
                assigned_by=ACTOR if unit.assigned_by is KEEP else users.get(unit.assigned_by),
            )
            for unit, unit_id, *_ in [*self.assigned, *self.moved, *self.unassigned]
        ]
        assignments_apply(
            project=self.project,
            changes=changes,
            actor=self.actor,
            source=Assignment.Source.IMPORT,
            check_permission=False,
            event_after={"import": import_event},
        )

    def _apply_hypotheses(self, groups, import_event, circuit_ids):
        """Create the planned hypotheses with their units and reviews; returns their events."""
        paths = self.plan.group_paths_by_id
        created = Hypothesis.objects.bulk_create(
            Hypothesis(
                project=self.project,
                network=self.network,
                author=author,
                title=document["title"],
                text=document.get("text", ""),
                status=document["status"],
                group_id=_mapped(groups, paths, document.get("group")),
                proposed_group_id=_mapped(groups, paths, document.get("proposed_group")),
                new_group=_new_group(document.get("new_group"), groups, paths),
                evidence=evidence,
                circuit_id=circuit_ids.get(document.get("circuit")),
                version=document.get("version", 1),
                accepted_at=parse_datetime(document.get("accepted_at") or "") or None,
            )
            for document, author, _, evidence in self.hypotheses
        )
        HypothesisUnit.objects.bulk_create(
            (
                HypothesisUnit(hypothesis=hypothesis, unit_id=unit_id)
                for hypothesis, (_, _, unit_ids, _) in zip(created, self.hypotheses, strict=True)
                for unit_id in unit_ids
            ),
            batch_size=BATCH_SIZE,
        )
        self._count_open_units(created)
        Review.objects.bulk_create(
            (
                Review(
                    hypothesis=hypothesis,
                    reviewer=self.users.get(review.get("reviewer")),
                    verdict=review["verdict"],
                    comment=review.get("comment", ""),
                    version=review["version"],
                )
                for hypothesis, (document, *_) in zip(created, self.hypotheses, strict=True)
                for review in document.get("reviews", [])
            ),
            batch_size=BATCH_SIZE,
        )
        return [
            self._event(
                hypothesis,
                "hypothesis.imported",
                after={"status": hypothesis.status, "import": import_event},
            )
            for hypothesis in created
        ]

    def _count_open_units(self, created):
        """The grid's open-hypothesis counts of the units that imported open hypotheses name."""
        unit_counts_add_open_hypotheses(
            project_id=self.project.pk,
            open_hypotheses_by_unit=Counter(
                unit_id
                for hypothesis, (_, _, unit_ids, _) in zip(created, self.hypotheses, strict=True)
                if hypothesis.status == Hypothesis.Status.OPEN
                for unit_id in unit_ids
            ),
        )

    def _event(self, instance, verb, *, before=None, after=None):
        return event_build(
            instance, verb, actor=self.actor, project=self.project, before=before, after=after
        )


def _new_group(new_group, groups, paths):
    """A proposed new group's parent, from the file's ids to this project's."""
    if new_group and new_group.get("parent") in paths:
        return {**new_group, "parent": groups[paths[new_group["parent"]]]}
    return new_group


def _mapped(groups, paths, doc_id):
    return groups[paths[doc_id]] if doc_id is not None else None


def _show(path):
    return PATH_SEPARATOR.join(path)
