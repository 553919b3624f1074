"""Reads about releases: a project's list, one release, and the diff between two."""

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from annotations.formats.taxonomy_export import PATH_SEPARATOR
from annotations.models import Release, ReleaseAssignment, ReleaseGroup
from annotations.selectors.exports import CHUNK_SIZE
from server.errors import NotFound, UnknownReference, ValidationFailed
from workers.addresses import UnitAddress

GROUP_FIELDS = ("description", "color", "order", "layer_id")


def _count(model):
    counted = (
        model.objects.filter(release=OuterRef("pk"))
        .order_by()
        .values("release")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def releases_of(*, project):
    """The project's releases, newest first, with ``group_count`` and ``unit_count``."""
    return (
        Release.objects.filter(project=project)
        .select_related("created_by")
        .annotate(group_count=_count(ReleaseGroup), unit_count=_count(ReleaseAssignment))
        .order_by("-created_at", "-id")
    )


def release_get(*, project, name):
    """Release ``name`` of ``project`` (annotated like ``releases_of``); 404 otherwise."""
    release = releases_of(project=project).filter(name=name).first()
    if release is None:
        raise NotFound(f"No release {name!r} in this project.")
    return release


def release_previous(*, release):
    """The release of the same project made just before ``release``, or None."""
    return (
        Release.objects.filter(project_id=release.project_id)
        .filter(created_at__lte=release.created_at)
        .exclude(pk=release.pk)
        .exclude(created_at=release.created_at, pk__gt=release.pk)
        .order_by("-created_at", "-id")
        .first()
    )


def release_against(*, release, name=None):
    """The older release to compare ``release`` with: release ``name`` of the same project
    (any release, not only the one before), or without a name the one made just before.
    UnknownReference on ``against`` when there is none."""
    if name:
        older = Release.objects.filter(project_id=release.project_id, name=name).first()
        if older is None:
            raise UnknownReference(
                f"No release {name!r} in this project to compare with.",
                fields={"against": ["Unknown release."]},
            )
        return older
    older = release_previous(release=release)
    if older is None:
        raise UnknownReference(
            f"No release before {release.name} to compare with; name one in `against`.",
            fields={"against": ["Required: this is the first release."]},
        )
    return older


def release_diff(*, older, newer):
    """What changed from release ``older`` to release ``newer``: groups added, removed,
    renamed, moved (another parent) and changed (description, color, order, layer scope),
    followed by their key (the group's id, kept through renames); and every unit whose group
    differs, with ``from`` and ``to`` (None: in no group)."""
    if older.project_id != newer.project_id:
        raise ValidationFailed(
            "Both releases must be of the same project.", fields={"against": ["Another project."]}
        )
    before, after = _groups(older), _groups(newer)
    groups = {"added": [], "removed": [], "renamed": [], "moved": [], "changed": []}
    for key in sorted(after.keys() - before.keys(), key=lambda k: after[k]["path"]):
        groups["added"].append(_group_ref(after[key]))
    for key in sorted(before.keys() - after.keys(), key=lambda k: before[k]["path"]):
        groups["removed"].append(_group_ref(before[key]))
    for key in sorted(before.keys() & after.keys(), key=lambda k: after[k]["path"]):
        old, new = before[key], after[key]
        if old["name"] != new["name"]:
            groups["renamed"].append({"key": key, "from": old["name"], "to": new["name"]})
        if old["parent_key"] != new["parent_key"]:
            groups["moved"].append(
                {
                    "key": key,
                    "name": new["name"],
                    "from": _parent_path(before, old),
                    "to": _parent_path(after, new),
                }
            )
        fields = [field.removesuffix("_id") for field in GROUP_FIELDS if old[field] != new[field]]
        if fields:
            groups["changed"].append({"key": key, "name": new["name"], "fields": fields})
    units = []
    for address, old_key, new_key in _changed_units(older, newer):
        units.append(
            {
                "network": address[0],
                "unit": str(UnitAddress(address[2], address[3])),
                "from": _group_ref(before[old_key]) if old_key is not None else None,
                "to": _group_ref(after[new_key]) if new_key is not None else None,
            }
        )
    return {
        "from": older.name,
        "to": newer.name,
        "groups": groups,
        "units": units,
        "circuits": _circuits_diff(older, newer),
    }


CIRCUIT_FIELDS = ("description", "nodes", "edges")


def _circuits_diff(older, newer):
    """Circuits added, removed and changed (description, nodes with their roles, edges), by
    network and name: a renamed circuit is one removed and one added."""
    before, after = _circuits(older), _circuits(newer)
    return {
        "added": [{"network": n, "name": name} for n, name in sorted(after.keys() - before.keys())],
        "removed": [
            {"network": n, "name": name} for n, name in sorted(before.keys() - after.keys())
        ],
        "changed": [
            {
                "network": network,
                "name": name,
                "fields": [
                    field
                    for field in CIRCUIT_FIELDS
                    if before[(network, name)][field] != after[(network, name)][field]
                ],
            }
            for network, name in sorted(before.keys() & after.keys())
            if any(before[(network, name)][f] != after[(network, name)][f] for f in CIRCUIT_FIELDS)
        ],
    }


def _circuits(release):
    return {
        (network, circuit["name"]): circuit
        for network, circuits in release.circuits.items()
        for circuit in circuits
    }


def _groups(release):
    rows = {
        row["key"]: row
        for row in ReleaseGroup.objects.filter(release=release).values(
            "key", "parent_key", "name", *GROUP_FIELDS
        )
    }
    for row in rows.values():
        names, current, seen = [], row, set()
        while current is not None and current["key"] not in seen:
            seen.add(current["key"])
            names.append(current["name"])
            current = rows.get(current["parent_key"])
        row["path"] = PATH_SEPARATOR.join(reversed(names))
    return rows


def _group_ref(row):
    return {"key": row["key"], "name": row["name"], "path": row["path"]}


def _parent_path(rows, row):
    parent = rows.get(row["parent_key"])
    return parent["path"] if parent else None


def _assignments(release):
    return (
        ReleaseAssignment.objects.filter(release=release)
        .order_by("unit__network__name", "unit__layer__order", "unit__index")
        .values_list(
            "unit__network__name", "unit__layer__order", "unit__layer__name", "unit__index",
            "group_key",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )  # fmt: skip


def _changed_units(older, newer):
    """A merge of both releases' assignments in unit order: ``(address, old key, new key)``
    for each unit whose group differs; an address is (network, layer order, layer, index)."""
    old_rows, new_rows = _assignments(older), _assignments(newer)
    old, new = next(old_rows, None), next(new_rows, None)
    while old is not None or new is not None:
        if new is None or (old is not None and old[:4] < new[:4]):
            yield old[:4], old[4], None
            old = next(old_rows, None)
        elif old is None or new[:4] < old[:4]:
            yield new[:4], None, new[4]
            new = next(new_rows, None)
        else:
            if old[4] != new[4]:
                yield old[:4], old[4], new[4]
            old, new = next(old_rows, None), next(new_rows, None)
