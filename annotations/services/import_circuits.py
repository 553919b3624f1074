"""The circuits and confirmed universality links of an import file (JSON, since 1.1): checked
against the catalog and the project with the rest of the import, then written with it.

A circuit the project already has (same name) is left alone; edges keep the weights the file
holds (the import has already checked that the file is of this very network). A link is added
unless the project has it already; a link whose other side is in a network the project does
not study, or a group it does not have, is skipped and counted.
"""

from annotations.models import Circuit, CircuitEdge, CircuitNode, UnitLink
from annotations.selectors.export_documents import group_paths_of
from annotations.selectors.projects import members_by_username
from annotations.services.events import event_build
from workers.addresses import UnitAddress
from workers.models import Unit

NAME_MAX_LENGTH = Circuit._meta.get_field("name").max_length


class CircuitImport:
    """What the file's circuits and links add to the project, worked out before writing."""

    def __init__(self, *, project, network, plan, problems, actor):
        self.project, self.network, self.actor = project, network, actor
        self.existing = dict(Circuit.objects.filter(project=project).values_list("name", "pk"))
        usernames = {c.get("created_by") for c in plan.circuits} | {
            link.get(key) for link in plan.links for key in ("proposed_by", "reviewed_by")
        }
        self.users = members_by_username(project=project, usernames=usernames)
        self.circuits, self.circuits_unchanged = [], 0
        self._plan_circuits(plan.circuits, problems)
        self.names = set(self.existing) | {document["name"] for document, _ in self.circuits}
        self.link_documents = plan.links

    def _plan_circuits(self, documents, problems):
        addresses = {
            address for document in documents for address in [n["unit"] for n in document["nodes"]]
        }
        self.catalog = _units(self.network, addresses)
        seen = set()
        for position, document in enumerate(documents):
            where = f"circuits.{position}"
            name = document["name"].strip()
            if not name or len(name) > NAME_MAX_LENGTH or name in seen:
                problems.add(where, f"Circuit name {name!r} is blank, too long or listed twice.")
                continue
            seen.add(name)
            nodes = [node["unit"] for node in document["nodes"]]
            unknown = [address for address in nodes if address not in self.catalog]
            if unknown:
                problems.add(where, f"No units {', '.join(unknown)} in {self.network.name}.")
                continue
            if len(set(nodes)) != len(nodes):
                problems.add(where, "A unit is listed twice.")
                continue
            loose = [
                f"{edge['source']} → {edge['target']}"
                for edge in document["edges"]
                if edge["source"] not in nodes or edge["target"] not in nodes
            ]
            if loose:
                problems.add(where, f"Edges {', '.join(loose)} join units that are not nodes.")
                continue
            if name in self.existing:
                self.circuits_unchanged += 1
                continue
            self.circuits.append(({**document, "name": name}, nodes))

    def circuit_problem(self, name):
        """Why a hypothesis cannot be about circuit ``name``, or None."""
        if name is None or name in self.names:
            return None
        return f"No circuit {name!r} in the file or the project."

    def links_planned(self, groups):
        """The file's links this import adds, as unsaved UnitLinks, and how many it skips;
        ``groups`` maps group paths (tuples) to this project's group ids after the import."""
        studied = set(self.project.network_links.values_list("network__name", flat=True))
        addresses = {
            (side["network"], side["unit"])
            for link in self.link_documents
            for side in (link["a"], link["b"])
            if "network" in side and side["network"] in studied
        }
        units = _units_anywhere(self.project, addresses)
        existing = {
            frozenset(pair)
            for pair in UnitLink.objects.filter(
                project=self.project, status=UnitLink.Status.CONFIRMED
            ).values_list("unit_a_id", "unit_b_id", "group_a_id", "group_b_id")
        }
        links, skipped = [], 0
        for document in self.link_documents:
            sides = [_resolve(side, units, groups) for side in (document["a"], document["b"])]
            if None in sides or sides[0] == sides[1]:
                skipped += 1
                continue
            kind = sides[0][0]
            if kind != sides[1][0]:
                skipped += 1
                continue
            pair = (
                (sides[0][1], sides[1][1], None, None)
                if kind == "unit"
                else (None, None, sides[0][1], sides[1][1])
            )
            if frozenset(pair) in existing:
                skipped += 1
                continue
            existing.add(frozenset(pair))
            links.append(
                UnitLink(
                    project=self.project,
                    unit_a_id=pair[0],
                    unit_b_id=pair[1],
                    group_a_id=pair[2],
                    group_b_id=pair[3],
                    note=document.get("note", ""),
                    correlation=document.get("correlation"),
                    status=UnitLink.Status.CONFIRMED,
                    proposed_by=self.users.get(document.get("proposed_by")),
                    reviewed_by=self.users.get(document.get("reviewed_by")),
                    review_note=document.get("review_note", ""),
                )
            )
        return links, skipped

    def apply_circuits(self, event):
        """Create the planned circuits; returns ``{name: circuit id}`` of every circuit."""
        ids = dict(self.existing)
        events = []
        for document, addresses in self.circuits:
            circuit = Circuit.objects.create(
                project=self.project,
                network=self.network,
                name=document["name"],
                description=document.get("description", ""),
                created_by=self.users.get(document.get("created_by")) or self.actor,
            )
            ids[circuit.name] = circuit.pk
            nodes = CircuitNode.objects.bulk_create(
                CircuitNode(
                    circuit=circuit, unit_id=self.catalog[node["unit"]], role=node.get("role", "")
                )
                for node in document["nodes"]
            )
            by_address = dict(zip(addresses, nodes, strict=True))
            CircuitEdge.objects.bulk_create(
                CircuitEdge(
                    circuit=circuit,
                    source=by_address[edge["source"]],
                    target=by_address[edge["target"]],
                    magnitude=edge["magnitude"],
                    sign=edge["sign"],
                    kind=edge["kind"],
                    kernel=edge["kernel"],
                    origin=edge.get("origin", {}),
                )
                for edge in document["edges"]
            )
            events.append(
                self._event(
                    circuit,
                    "circuit.imported",
                    {"nodes": len(nodes), "edges": len(document["edges"]), "import": event},
                )
            )
        return ids, events

    def apply_links(self, links, event):
        """Create the planned links; returns their events."""
        created = UnitLink.objects.bulk_create(links)
        # Read back with both sides, which name the link in its events.
        created = (
            UnitLink.objects.filter(pk__in=[link.pk for link in created])
            .select_related(
                "unit_a__network",
                "unit_a__layer",
                "unit_b__network",
                "unit_b__layer",
                "group_a",
                "group_b",
            )
            .order_by("pk")
        )
        return [self._event(link, "link.imported", {"import": event}) for link in created]

    def _event(self, instance, verb, after):
        return event_build(instance, verb, actor=self.actor, project=self.project, after=after)


def project_group_paths(project):
    """``{path tuple: group id}`` of every group of ``project``."""
    return {tuple(path): pk for pk, path in group_paths_of(project).items()}


def _units(network, addresses):
    """``{address: unit id}`` of the units of ``network`` at ``addresses`` (text)."""
    layers = {UnitAddress.parse(address).layer for address in addresses}
    found = {
        str(UnitAddress(layer, index)): pk
        for pk, layer, index in Unit.objects.filter(
            network=network, layer__name__in=layers
        ).values_list("pk", "layer__name", "index")
    }
    return {address: pk for address, pk in found.items() if address in addresses}


def _units_anywhere(project, addresses):
    """``{(network name, address): unit id}`` of the units at ``addresses`` in the project's
    networks."""
    found = {}
    for network_name in {network for network, _ in addresses}:
        wanted = {address for network, address in addresses if network == network_name}
        layers = {UnitAddress.parse(address).layer for address in wanted}
        rows = Unit.objects.filter(
            network__project_links__project=project,
            network__name=network_name,
            layer__name__in=layers,
        ).values_list("pk", "layer__name", "index")
        for pk, layer, index in rows:
            address = str(UnitAddress(layer, index))
            if address in wanted:
                found[(network_name, address)] = pk
    return found


def _resolve(side, units, groups):
    if "network" in side:
        pk = units.get((side["network"], side["unit"]))
        return ("unit", pk) if pk is not None else None
    pk = groups.get(tuple(side["group"]))
    return ("group", pk) if pk is not None else None
