"""Reads about a project's taxonomy: its groups, their units, the layers a group may cover."""

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from annotations.models import Assignment, Group
from server.errors import NotFound, UnknownReference
from workers.models import Layer, Network


def groups_of(*, project):
    """The project's groups, each annotated with ``unit_count`` (its accepted units)."""
    counts = (
        Assignment.objects.filter(group=OuterRef("pk"))
        .order_by()
        .values("group")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        Group.objects.filter(project=project)
        .select_related("layer__network", "created_by")
        .annotate(unit_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0))
        .order_by("order", "name", "pk")
    )


# What a listed group shows, read as values: the 84 groups of bench/API.md's project built as
# model instances and rendered by nested serializers were most of the list's and the tree's time.
LISTED_GROUP_FIELDS = (
    "id",
    "name",
    "description",
    "color",
    "order",
    "parent_id",
    "layer_id",
    "layer__name",
    "layer__network__name",
    "unit_count",
    "version",
    "created_by__username",
    "created_at",
    "updated_at",
)


def groups_listed(*, project):
    """The project's groups as ``groups_of`` orders them, each a dict of ``LISTED_GROUP_FIELDS``."""
    return groups_of(project=project).values(*LISTED_GROUP_FIELDS)


def groups_tree(*, project):
    """The project's groups as a forest: the root groups (dicts as ``groups_listed`` gives
    them), each with ``tree_children`` and ``total_unit_count``: its own units plus those of
    every group below it."""
    groups = list(groups_listed(project=project))
    children = {}
    for group in groups:
        children.setdefault(group["parent_id"], []).append(group)
    for group in groups:
        group["tree_children"] = children.get(group["id"], [])
    roots = children.get(None, [])
    for root in roots:
        _roll_up(root)
    return roots


def _roll_up(group):
    # Depth first without recursion: a deep tree must not reach Python's recursion limit.
    order, pending = [], [group]
    while pending:
        node = pending.pop()
        order.append(node)
        pending.extend(node["tree_children"])
    for node in reversed(order):
        node["total_unit_count"] = node["unit_count"] + sum(
            child["total_unit_count"] for child in node["tree_children"]
        )


def group_get(*, project, group_id):
    """The group ``group_id`` of ``project`` (annotated like ``groups_of``); 404 otherwise."""
    group = groups_of(project=project).filter(pk=group_id).first()
    if group is None:
        raise NotFound(f"No group {group_id} in this project.")
    return group


def group_for_field(*, project, group_id, field):
    """The group of ``project`` that a request names in ``field``; a ValidationFailed on that
    field when the project has no such group (another project's group included)."""
    group = Group.objects.filter(project=project, pk=group_id).first()
    if group is None:
        raise UnknownReference(
            f"No group {group_id} in this project.", fields={field: ["Unknown group."]}
        )
    return group


# What a group's unit shows, read as values (a page of 500 as model instances with their
# units, layers, networks and assigners was most of the request's time).
LISTED_GROUP_UNIT_FIELDS = (
    "unit_id",
    "unit__network__name",
    "unit__layer__name",
    "unit__index",
    "note",
    "source",
    "hypothesis_id",
    "assigned_by__username",
    "assigned_at",
)


def group_units(*, group):
    """The accepted assignments of ``group``, in layer and unit order, each a dict of
    ``LISTED_GROUP_UNIT_FIELDS``."""
    return (
        Assignment.objects.filter(group=group)
        .order_by("unit__layer_id", "unit__index")
        .values(*LISTED_GROUP_UNIT_FIELDS)
    )


def project_network_get(*, project, name):
    """The network called ``name`` that ``project`` studies, or None."""
    return Network.objects.filter(project_links__project=project, name=name).first()


def layer_for_project(*, project, network, layer):
    """The layer called ``layer`` of the network called ``network`` that ``project`` studies;
    a ValidationFailed on the ``layer`` field otherwise."""
    found = (
        Layer.objects.select_related("network")
        .filter(network__project_links__project=project, network__name=network, name=layer)
        .first()
    )
    if found is None:
        raise UnknownReference(
            f"This project studies no layer {layer!r} of a network {network!r}.",
            fields={"layer": ["Unknown layer."]},
        )
    return found
