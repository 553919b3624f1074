"""Reading a taxonomy for export, one network at a time: the live taxonomy of a project or a
frozen release, through one interface, row by row.

Groups and hypotheses are few and come back as lists; units (tens of thousands) come back as
iterators over database cursors in layer and unit order, so an export never holds them all.
"""

import itertools
from abc import ABC, abstractmethod

from django.db.models import Prefetch, Q

from annotations.models import (
    Assignment,
    Circuit,
    Comment,
    Group,
    Hypothesis,
    HypothesisUnit,
    ReleaseAssignment,
    ReleaseGroup,
    Review,
)
from annotations.selectors.export_documents import (
    circuit_documents,
    hypotheses_as_documents,
    iso_time,
    link_documents,
)
from annotations.selectors.rounds import round_documents
from server.errors import UnknownReference
from workers.addresses import UnitAddress
from workers.models import Artifact, Job, Layer, Network, Unit

CHUNK_SIZE = 2000
HYPOTHESIS_CHUNK_SIZE = 200


def export_network_get(*, project, network_name=None):
    """The network of ``project`` to export: the one named, or the only one it studies."""
    networks = Network.objects.filter(project_links__project=project).order_by("name")
    if network_name:
        network = networks.filter(name=network_name).first()
        if network is None:
            raise UnknownReference(
                f"This project studies no network {network_name!r}.",
                fields={"network": ["Not a network of this project."]},
            )
        return network
    found = list(networks[:2])
    if len(found) != 1:
        # Which network is meant depends on what the project studies: 422, not 400.
        raise UnknownReference(
            "Name the network to export: this project studies "
            + ("none." if not found else "several."),
            fields={"network": ["Required." if found else "This project studies no network."]},
        )
    return found[0]


def network_layers(*, network):
    return list(Layer.objects.filter(network=network).order_by("order"))


class _Taxonomy(ABC):
    """What an export reads; subclasses say where from (live tables or a release)."""

    release = None

    def __init__(self, *, project, network):
        self.project = project
        self.network = network
        self._groups = None

    def groups(self):
        """The groups that concern the network (unscoped, or scoped to one of its layers, and
        every ancestor of those), parents before children, siblings by order and name. Each
        is a dict with ``id``, ``parent``, ``name``, ``path`` (names from the root),
        ``description``, ``color``, ``order`` and ``layer`` (a layer name or None)."""
        if self._groups is None:
            self._groups = _tree_order(self._group_rows(), self.network.name)
        return self._groups

    @abstractmethod
    def _group_rows(self):
        """The project's (or the release's) group rows, for ``groups``."""

    @abstractmethod
    def unit_counts(self):
        """``{(group id, layer name): units}`` over the network's units."""

    @abstractmethod
    def assignments(self):
        """Each assigned unit of the network, in layer and unit order, as a tuple
        ``(unit id, layer name, unit index, group id, note, assigned_by, assigned_at)``."""

    @abstractmethod
    def hypotheses(self):
        """The network's hypotheses as the JSON export writes them, oldest first."""

    def comments(self):
        """The comments on the network's units, the groups and the hypotheses, oldest first."""
        return iter(())

    @abstractmethod
    def circuits(self):
        """The network's circuits with their nodes and edges, by name (``circuit_documents``)."""

    @abstractmethod
    def rounds(self):
        """The closed labelling rounds on the network with their agreement
        (``round_documents``)."""

    @abstractmethod
    def links(self):
        """The confirmed universality links that touch the network: a unit of it on either
        side, or a group of this export (``link_documents``)."""

    def units(self):
        """Every unit of the network, in layer and unit order, as ``(unit id, layer name,
        unit index, assignment tuple or None)``: a merge of two ordered cursors."""
        units = (
            Unit.objects.filter(network=self.network)
            .order_by("layer__order", "index")
            .values_list("pk", "layer__name", "index")
            .iterator(chunk_size=CHUNK_SIZE)
        )
        assignments = self.assignments()
        pending = next(assignments, None)
        for unit_id, layer, index in units:
            if pending is not None and pending[0] == unit_id:
                yield unit_id, layer, index, pending
                pending = next(assignments, None)
            else:
                yield unit_id, layer, index, None

    def never_fired(self):
        """``{layer name: {"dataset", "of", "units"}}``: per layer of the network, the units
        that never fired on the dataset of the layer's newest dataset-examples job (on none of
        its ``of`` images; ``engine.dataset_examples.fired_on``), in index order. Evidence about
        the network, not the taxonomy: read live for a release too. Layers whose newest job
        predates the firing counts are left out. Two queries."""
        jobs = (
            Job.objects.filter(
                network=self.network,
                kind=Job.Kind.DATASET_EXAMPLES,
                status=Job.Status.SUCCEEDED,
            )
            .order_by("layer_id", "-created_at", "-id")
            .values_list("pk", "layer__name", "params", "timings")
        )
        newest = {}
        for job_id, layer, params, timings in jobs:
            if layer not in newest and "never_fired" in (timings or {}):
                newest[layer] = (job_id, params["dataset"], timings["images_seen"])
        found = {
            layer: {"dataset": dataset, "of": images, "units": []}
            for layer, (_, dataset, images) in newest.items()
        }
        layer_of = {job_id: layer for layer, (job_id, _, _) in newest.items()}
        units = (
            Artifact.objects.filter(
                job_id__in=layer_of,
                kind=Artifact.Kind.UNIT_JSON,
                variant="",
                meta__fired_on__never_fired=True,
            )
            .order_by("unit__index")
            .values_list("job_id", "unit__index")
        )
        for job_id, index in units:
            found[layer_of[job_id]]["units"].append(index)
        return found

    def units_under_review(self):
        """The ``UnitAddress`` of each unit in an open hypothesis."""
        return {
            UnitAddress.parse(address)
            for hypothesis in self.hypotheses()
            if hypothesis["status"] == Hypothesis.Status.OPEN
            for address in hypothesis["units"]
        }


class LiveTaxonomy(_Taxonomy):
    def _group_rows(self):
        return Group.objects.filter(project=self.project).values(
            "pk",
            "parent_id",
            "name",
            "description",
            "color",
            "order",
            "layer__name",
            "layer__network__name",
        )

    def unit_counts(self):
        rows = (
            Assignment.objects.filter(project=self.project, unit__network=self.network)
            .values_list("group_id", "unit__layer__name")
            .order_by()
        )
        return _count_rows(rows)

    def assignments(self):
        return (
            Assignment.objects.filter(project=self.project, unit__network=self.network)
            .order_by("unit__layer__order", "unit__index")
            .values_list(
                "unit_id",
                "unit__layer__name",
                "unit__index",
                "group_id",
                "note",
                "assigned_by__username",
                "assigned_at",
            )
            .iterator(chunk_size=CHUNK_SIZE)
        )

    def hypotheses(self):
        hypotheses = (
            Hypothesis.objects.filter(project=self.project, network=self.network)
            .select_related("author", "circuit")
            .prefetch_related(
                Prefetch(
                    "units",
                    queryset=HypothesisUnit.objects.select_related("unit__layer").order_by(
                        "unit__layer__order", "unit__index"
                    ),
                ),
                Prefetch(
                    "reviews",
                    queryset=Review.objects.select_related("reviewer").order_by("created_at", "id"),
                ),
            )
            .order_by("created_at", "id")
        )
        yield from hypotheses_as_documents(
            hypotheses.iterator(chunk_size=HYPOTHESIS_CHUNK_SIZE), chunk_size=HYPOTHESIS_CHUNK_SIZE
        )

    def comments(self):
        groups = [group["id"] for group in self.groups()]
        hypotheses = Hypothesis.objects.filter(project=self.project, network=self.network)
        units = Unit.objects.filter(network=self.network).values("pk")
        comments = (
            Comment.objects.filter(project=self.project)
            .filter(
                _target(Comment.TargetType.UNIT, units)
                | _target(Comment.TargetType.GROUP, groups)
                | _target(Comment.TargetType.HYPOTHESIS, hypotheses.values("pk"))
                | _target(
                    Comment.TargetType.CIRCUIT,
                    Circuit.objects.filter(project=self.project, network=self.network).values("pk"),
                )
            )
            .select_related("author", "resolved_by")
            .order_by("created_at", "id")
        )
        rows = comments.iterator(chunk_size=CHUNK_SIZE)
        while batch := list(itertools.islice(rows, CHUNK_SIZE)):
            unit_ids = {c.target_id for c in batch if c.target_type == Comment.TargetType.UNIT}
            addresses = {
                pk: str(UnitAddress(layer, index))
                for pk, layer, index in Unit.objects.filter(pk__in=unit_ids).values_list(
                    "pk", "layer__name", "index"
                )
            }
            for comment in batch:
                target = comment.target_id
                if comment.target_type == Comment.TargetType.UNIT:
                    target = addresses[target]
                yield {
                    "id": comment.pk,
                    "parent": comment.parent_id,
                    "target_type": comment.target_type,
                    "target": target,
                    "author": comment.author.username if comment.author else None,
                    "body": comment.body,
                    "deleted": comment.deleted_at is not None,
                    "created_at": iso_time(comment.created_at),
                    "edited_at": iso_time(comment.edited_at),
                    "resolved_at": iso_time(comment.resolved_at),
                    "resolved_by": comment.resolved_by.username if comment.resolved_by else None,
                }

    def circuits(self):
        return circuit_documents(project=self.project, network=self.network)

    def rounds(self):
        return round_documents(project=self.project, network=self.network)

    def links(self):
        paths = {tuple(group["path"]) for group in self.groups()}
        return [
            link
            for link in link_documents(project=self.project)
            if _touches(link, self.network.name, paths)
        ]


class ReleaseTaxonomy(_Taxonomy):
    def __init__(self, *, project, network, release):
        super().__init__(project=project, network=network)
        self.release = release

    def _group_rows(self):
        rows = ReleaseGroup.objects.filter(release=self.release).values(
            "key",
            "parent_key",
            "name",
            "description",
            "color",
            "order",
            "layer__name",
            "layer__network__name",
        )
        for row in rows:
            row["pk"], row["parent_id"] = row.pop("key"), row.pop("parent_key")
            yield row

    def unit_counts(self):
        rows = (
            ReleaseAssignment.objects.filter(release=self.release, unit__network=self.network)
            .values_list("group_key", "unit__layer__name")
            .order_by()
        )
        return _count_rows(rows)

    def assignments(self):
        # A release keeps "" for an assignment nobody is recorded as having made.
        rows = (
            ReleaseAssignment.objects.filter(release=self.release, unit__network=self.network)
            .order_by("unit__layer__order", "unit__index")
            .values_list(
                "unit_id",
                "unit__layer__name",
                "unit__index",
                "group_key",
                "note",
                "assigned_by",
                "assigned_at",
            )
            .iterator(chunk_size=CHUNK_SIZE)
        )
        return ((*row[:5], row[5] or None, row[6]) for row in rows)

    def hypotheses(self):
        return iter(self.release.hypotheses.get(self.network.name, []))

    def circuits(self):
        return list(self.release.circuits.get(self.network.name, []))

    def rounds(self):
        return list(self.release.rounds.get(self.network.name, []))

    def links(self):
        paths = {tuple(group["path"]) for group in self.groups()}
        return [link for link in self.release.links if _touches(link, self.network.name, paths)]


def taxonomy_for_export(*, project, network, release=None):
    """The taxonomy of ``project`` on ``network``: live, or as frozen in ``release``."""
    if release is None:
        return LiveTaxonomy(project=project, network=network)
    return ReleaseTaxonomy(project=project, network=network, release=release)


def hypothesis_documents(*, project, network):
    """The network's hypotheses with their reviews, as the JSON export writes them."""
    return list(LiveTaxonomy(project=project, network=network).hypotheses())


def _touches(link, network_name, group_paths):
    return any(
        side.get("network") == network_name or tuple(side.get("group", ())) in group_paths
        for side in (link["a"], link["b"])
    )


def _count_rows(rows):
    counts = {}
    for group_id, layer in rows.iterator(chunk_size=CHUNK_SIZE):
        counts[(group_id, layer)] = counts.get((group_id, layer), 0) + 1
    return counts


def _target(target_type, ids):
    return Q(target_type=target_type, target_id__in=ids)


def _tree_order(rows, network_name):
    groups = {}
    for row in rows:
        groups[row["pk"]] = {
            "id": row["pk"],
            "parent": row["parent_id"],
            "name": row["name"],
            "description": row["description"],
            "color": row["color"],
            "order": row["order"],
            "layer": row["layer__name"],
            "_network": row["layer__network__name"],
        }
    wanted = set()
    for group in groups.values():
        if group["_network"] in (None, network_name):
            group_id = group["id"]
            while group_id is not None and group_id not in wanted:
                wanted.add(group_id)
                group_id = groups[group_id]["parent"]
    children = {}
    for group in groups.values():
        if group["id"] in wanted:
            children.setdefault(group["parent"], []).append(group)
    ordered = []

    def visit(parent, path):
        for group in sorted(
            children.get(parent, []), key=lambda g: (g["order"], g["name"], g["id"])
        ):
            group["path"] = [*path, group["name"]]
            if group.pop("_network") not in (None, network_name):
                group["layer"] = None
            ordered.append(group)
            visit(group["id"], group["path"])

    visit(None, [])
    return ordered
