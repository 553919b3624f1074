"""What an import file changes in a project: worked out and checked against the catalog and
the project inside the import's lock, and reported (a dry run's whole answer). Nothing here
writes; ``imports`` applies the changes.
"""

from annotations.formats.import_files import KEEP, GroupSpec
from annotations.formats.taxonomy_export import path_text
from annotations.models import Assignment, Group, Hypothesis
from annotations.selectors.projects import members_by_username
from annotations.services.import_circuits import CircuitImport, project_group_paths
from workers.addresses import UnitAddress
from workers.models import Artifact, Layer, Unit

MAX_LISTED_CHANGES = 1000
DEFAULTS = {"description": "", "color": "#888888", "order": 0, "layer": None}


class ImportChanges:
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
        """Give each row of a simple CSV the path of its group. A row names its group by the
        names of ``parent_group`` then ``group``: the first name is the group of that name the
        file puts under a parent (the same path everywhere it does), else the project's one
        group of that name, else a new group at the root; the names after it are its
        descendants, created where missing. Same-named groups under different parents are
        different groups; a bare name that could be several of them is refused."""
        rows = self.plan.simple_rows
        # name -> {the names of a parent the file puts it under: (where, line) first seen}. A
        # path that starts with the name itself ("Curves / Curves") places another group.
        placed = {}
        for row in rows:
            for depth in range(1, len(row.names)):
                if row.names[depth] != row.names[0]:
                    placed.setdefault(row.names[depth], {}).setdefault(
                        row.names[:depth], (row.where, row.line)
                    )
        named = {}
        for path in self.existing:
            named.setdefault(path[-1], []).append(path)
        heads = {}

        def head(name, where, inside):
            if name in heads:
                return heads[name]
            if name in inside:
                self.problems.add(where, f"Group {name!r} is inside itself (a cycle of parents).")
                return None
            candidates = {}
            for parent, (first, line) in placed.get(name, {}).items():
                above = path_of(parent, first, inside | {name})
                if above is None:
                    heads[name] = None
                    return None
                candidates.setdefault((*above, name), line)
            found = named.get(name, [])
            if len(candidates) > 1:
                places = [f"{_show(path)} (line {line})" for path, line in candidates.items()]
                self.problems.add(
                    where,
                    f"Group {name!r} is ambiguous: the file has {' and '.join(places)}; give "
                    "its parent_group.",
                )
                path = None
            elif candidates:
                path = next(iter(candidates))
            elif len(found) > 1:
                self.problems.add(
                    where,
                    f"Group {name!r} is ambiguous: the project has "
                    f"{' and '.join(_show(other) for other in sorted(found))}; give parent_group.",
                )
                path = None
            else:
                path = found[0] if found else (name,)
            heads[name] = path
            return path

        def path_of(names, where, inside):
            above = head(names[0], where, inside)
            return None if above is None else (*above, *names[1:])

        specs, descriptions, resolved = {}, {}, {}
        for row in rows:
            if row.names not in resolved:
                resolved[row.names] = path_of(row.names, row.where, frozenset())
            path = resolved[row.names]
            if path is None:
                continue
            for depth in range(1, len(path) + 1):
                specs.setdefault(path[:depth], GroupSpec(path=path[:depth], where=row.where))
            if not row.description:
                continue
            text, line = descriptions.setdefault(path, (row.description, row.line))
            if text != row.description:
                self.problems.add(
                    row.where,
                    f"Line {row.line}: group {_show(path)!r} is given another description on "
                    f"line {line}.",
                )
                continue
            specs[path].description = text
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
            address = str(UnitAddress(unit.layer, unit.index))
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
        self.hypotheses, self.hypotheses_unchanged, self.evidence_dropped = [], 0, []
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
            units = sorted(str(row.unit.address) for row in hypothesis.units.all())
            author = hypothesis.author.username if hypothesis.author else None
            existing.add((hypothesis.title, author, tuple(units)))
        catalog = {
            str(UnitAddress(layer, index)): pk
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
            self._report_dropped_evidence(hypothesis, artifacts)
            self.hypotheses.append((hypothesis, author, [catalog[a] for a in units], evidence))

    def _report_dropped_evidence(self, hypothesis, artifacts):
        """A line for each evidence item the import leaves out: an artifact this server does not
        have for the network (ids are the exporting server's), a circuit that is neither in the
        file nor in the project."""
        circuits = self.circuit_import
        dropped = [
            f"artifact {pk}" for pk in hypothesis.get("evidence", []) if pk not in artifacts
        ] + [
            f"circuit {name!r}"
            for name in hypothesis.get("evidence_circuits", [])
            if circuits.circuit_problem(name)
        ]
        if dropped:
            self.evidence_dropped.append(
                f"{hypothesis['title']!r}: {', '.join(dropped)} not found here, left out."
            )

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
            "evidence_dropped": self.evidence_dropped,
            "circuits_created": len(circuits.circuits),
            "circuits_unchanged": circuits.circuits_unchanged,
            "links_created": len(links),
            "links_skipped": links_skipped,
            "event": None,
        }


def _show(path):
    """A path as a CSV cell writes it (``path_text``): what a report or message names."""
    return path_text(path)
