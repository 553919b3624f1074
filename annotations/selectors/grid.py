"""The layer grid: every unit of a layer with its group and what people are saying about it.

A page costs a fixed number of queries whatever its size: the project, network and layer, the
reader's role and the project's change count in one; the layer's sprite sheets in a second;
the page itself (each unit's group and its open-hypothesis and comment counts, and how many
units match the filters) in a third.
"""

import functools
import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, Window

from annotations.models import (
    Assignment,
    Comment,
    Group,
    HypothesisUnit,
    Membership,
    Project,
    ProjectChanges,
    ProjectNetwork,
    UnitCounts,
)
from annotations.policies import can_in_role
from annotations.selectors.projects import project_get_for_user
from server.errors import NotFound, ValidationFailed
from workers.models import Artifact, Job, Layer, Network, Unit

STATUSES = ("unlabelled", "labelled", "under_review")


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


@dataclass(frozen=True)
class GridLayer:
    project: Project
    network_name: str
    layer_id: int
    layer_name: str
    # The reader's role in the project (None for a staff reader who is not a member).
    role: str | None
    # How many committed changes the project has had (``ProjectChanges``; 0 before the first).
    changes: int


@dataclass(frozen=True)
class GridRow:
    index: int
    group_id: int | None
    group_name: str | None
    group_color: str | None
    open_hypotheses: int
    comments: int


@dataclass(frozen=True)
class GridSprite:
    """The newest sprite sheet of a layer for one job kind, and its layout (None when the job
    wrote no index)."""

    kind: str
    artifact_id: int
    job_id: int
    layout: dict | None


# Written out because building the same query with the ORM (a join through the project's
# networks and a subquery for the layer) takes longer than running it, on every grid request.
_LAYER_SQL = """
SELECT {project_columns}, (
    SELECT layer.id FROM {layer} layer WHERE layer.network_id = network.id AND layer.name = %s
), (
    SELECT membership.role FROM {membership} membership
    WHERE membership.project_id = project.id AND membership.user_id = %s
), (
    SELECT changes.count FROM {project_changes} changes WHERE changes.project_id = project.id
)
FROM {project} project
JOIN {project_network} link ON link.project_id = project.id
JOIN {network} network ON network.id = link.network_id
WHERE project.slug = %s AND network.name = %s
"""


@functools.cache
def _project_columns():
    return [field.attname for field in Project._meta.concrete_fields]


def grid_layer_get_for_user(*, user, slug, network_name, layer_name):
    """Layer ``layer_name`` of network ``network_name`` in project ``slug``, if ``user`` may see
    the project: NotFound for a missing or hidden project (as ``project_get_for_user``) and for
    a network or layer the project does not study. One query, the user's role and the
    project's change count included."""
    columns = _project_columns()
    sql = _LAYER_SQL.format(
        project_columns=", ".join(f"project.{connection.ops.quote_name(c)}" for c in columns),
        layer=_table(Layer),
        project=_table(Project),
        project_network=_table(ProjectNetwork),
        network=_table(Network),
        membership=_table(Membership),
        project_changes=_table(ProjectChanges),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [layer_name, user.pk, slug, network_name])
        found = cursor.fetchone()
    if found is not None:
        *values, layer_id, role, changes = found
        project = Project.from_db(connection.alias, columns, values)
    if (
        found is None
        or layer_id is None
        or not can_in_role(user, "project.view", project, role=role)
    ):
        # The slow path, for errors only: the same answer as every other project endpoint.
        project_get_for_user(user=user, slug=slug)
        raise NotFound(f"No layer {network_name}/{layer_name} in this project.")
    return GridLayer(
        project=project,
        network_name=network_name,
        layer_id=layer_id,
        layer_name=layer_name,
        role=role,
        changes=changes or 0,
    )


class GridUnits:
    """The units of a layer that match the grid's filters, in index order, as a sequence a
    paginator can count and slice (into ``GridRow``s). Told the page to come with
    ``expect_page``, ``count()`` reads that page and the total in one statement and the slice
    is served from it; otherwise (an empty page, or no hint) counting is a query of its own."""

    ordered = True

    def __init__(self, *, project, layer_id, group=None, status=None, text=""):
        self.project = project
        self.units = _matching_units(
            project=project, layer_id=layer_id, group=group, status=status, text=text
        )
        # The grid as first opened: the whole layer, whose page query is written out.
        self.whole_layer = layer_id if group is None and status is None and not text else None
        self._expected = None
        self._read = None

    def expect_page(self, *, offset, limit):
        self._expected = (offset, limit)

    def count(self):
        if self._expected is not None:
            offset, limit = self._expected
            rows, total = self._rows(start=offset, stop=offset + limit)
            if rows:
                self._read = (offset, rows)
                return total
        return self.units.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, page):
        if not isinstance(page, slice):
            raise TypeError("GridUnits only hands out slices (pages).")
        # The paginator asks for [offset:offset + limit], or up to the total on the last page:
        # the same rows either way.
        if self._read is not None and page.start == self._read[0]:
            return self._read[1]
        return self._rows(start=page.start, stop=page.stop)[0]

    def _rows(self, *, start, stop):
        if self.whole_layer is not None and stop is not None:
            units_sql = _LAYER_UNITS_SQL.format(
                unit=_table(Unit), index=connection.ops.quote_name("index")
            )
            return _rows(
                project=self.project,
                units_sql=units_sql,
                units_params=(self.whole_layer, max(stop - start, 0), start),
            )
        if stop is not None and start >= stop:
            return [], None
        page = self.units.annotate(total=Window(Count("pk"))).values_list("pk", "index", "total")
        units_sql, units_params = page[start:stop].query.sql_with_params()
        return _rows(project=self.project, units_sql=units_sql, units_params=units_params)


def _matching_units(*, project, layer_id, group, status, text):
    """``group`` is a group id or "none"; ``status`` one of STATUSES."""
    units = Unit.objects.filter(layer_id=layer_id)
    assigned = Assignment.objects.filter(project=project, unit=OuterRef("pk"))
    if group == "none":
        units = units.filter(~Exists(assigned))
    elif group is not None:
        units = units.filter(Exists(assigned.filter(group_id=group)))
    if status == "unlabelled":
        units = units.filter(~Exists(assigned))
    elif status == "labelled":
        units = units.filter(Exists(assigned))
    elif status == "under_review":
        units = units.filter(
            Exists(
                UnitCounts.objects.filter(
                    project=project, unit=OuterRef("pk"), open_hypotheses__gt=0
                )
            )
        )
    elif status is not None:
        raise ValidationFailed(
            f"Unknown status {status!r}.", fields={"status": [f"One of: {', '.join(STATUSES)}."]}
        )
    if text:
        units = units.filter(_text_matches(project, text))
    return units.order_by("index")


def _text_matches(project, text):
    """Units whose group, open hypotheses or comments mention ``text``."""
    in_group = Assignment.objects.filter(
        project=project, unit=OuterRef("pk"), group__name__icontains=text
    )
    in_hypothesis = HypothesisUnit.objects.filter(
        hypothesis__project=project, unit=OuterRef("pk")
    ).filter(Q(hypothesis__title__icontains=text) | Q(hypothesis__text__icontains=text))
    in_comment = Comment.objects.filter(
        project=project,
        target_type=Comment.TargetType.UNIT,
        target_id=OuterRef("pk"),
        deleted_at__isnull=True,
        body__icontains=text,
    )
    return Exists(in_group) | Exists(in_hypothesis) | Exists(in_comment)


# One statement for the whole page. The ORM builds the page of unit ids (filters, order,
# LIMIT/OFFSET); the rest is SQL because the ORM spends longer compiling the lookups than the
# database spends running them. The counts are read, not counted: ``UnitCounts`` keeps them
# (annotations/services/unit_counts.py), one row per unit that has any. Each lookup is a
# correlated subquery so that PostgreSQL makes one index probe per unit of the page: as
# joins it hashes the project's whole count and assignment tables (2.6 ms against 1.3 ms).
_PAGE_SQL = """
WITH page (unit_id, unit_index, total) AS ({units})
SELECT page.total, page.unit_index, grp.id, grp.name, grp.color,
    COALESCE((SELECT counts.open_hypotheses FROM {unit_counts} counts
        WHERE counts.project_id = %s AND counts.unit_id = page.unit_id), 0),
    COALESCE((SELECT counts.comments FROM {unit_counts} counts
        WHERE counts.project_id = %s AND counts.unit_id = page.unit_id), 0)
FROM page
LEFT JOIN {group} grp ON grp.id = (
    SELECT a.group_id FROM {assignment} a WHERE a.project_id = %s AND a.unit_id = page.unit_id
)
ORDER BY page.unit_index
"""


# The page of an unfiltered grid, as the ORM would write it from ``_matching_units`` (the
# ORM takes about as long to compile it as PostgreSQL takes to run it).
_LAYER_UNITS_SQL = """
SELECT unit.id, unit.{index}, COUNT(*) OVER () FROM {unit} unit
WHERE unit.layer_id = %s ORDER BY unit.{index} LIMIT %s OFFSET %s
"""


def _rows(*, project, units_sql, units_params):
    """``GridRow``s of the page of units that ``units_sql`` selects (id, index, and how many
    match in all), and that total (None for an empty page: a window counts the rows before
    LIMIT)."""
    sql = _PAGE_SQL.format(
        units=units_sql,
        group=_table(Group),
        assignment=_table(Assignment),
        unit_counts=_table(UnitCounts),
    )
    params = (*units_params, project.pk, project.pk, project.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    return [GridRow(*row[1:]) for row in found], (found[0][0] if found else None)


_SPRITES_SQL = """
SELECT artifact.id, artifact.job_id, job.kind, artifact.kind, artifact.variant, artifact.file,
    artifact.sha256
FROM {artifact} artifact JOIN {job} job ON job.id = artifact.job_id
WHERE artifact.layer_id = %s AND artifact.unit_id IS NULL AND artifact.kind IN (%s, %s)
ORDER BY job.kind, job.created_at DESC, artifact.job_id DESC
"""


def grid_sprite_artifacts(*, layer_id):
    """The layer's sprite sheets and sprite indexes, every job's, as tuples (artifact id, job
    id, job kind, artifact kind, variant, file name, sha256) in the order ``grid_sprites``
    wants. One query. Everything the grid shows of the sprites follows from these rows (an
    artifact's file never changes), so they also key a cached grid page."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SPRITES_SQL.format(artifact=_table(Artifact), job=_table(Job)),
            [layer_id, Artifact.Kind.LAYER_SPRITE.value, Artifact.Kind.LAYER_INDEX.value],
        )
        return cursor.fetchall()


def grid_sprites(*, artifacts, unit_indices):
    """For each job kind, the newest sprite sheet among ``artifacts`` (from
    ``grid_sprite_artifacts``) and its layout (the sprite index: tile size, columns and the
    tile position of each unit in ``unit_indices``), as ``GridSprite``s. One small file read
    per kind the first time the process sees it."""
    newest = {}
    indexes = {}
    for artifact_id, job_id, job_kind, kind, variant, name, sha256 in artifacts:
        if kind == Artifact.Kind.LAYER_INDEX:
            indexes[(job_id, variant)] = (artifact_id, name, sha256)
        else:
            newest.setdefault(job_kind, (artifact_id, job_id, variant))
    wanted = frozenset(unit_indices)
    return [
        GridSprite(
            kind=job_kind,
            artifact_id=artifact_id,
            job_id=job_id,
            layout=_layout(indexes.get((job_id, variant)), wanted),
        )
        for job_kind, (artifact_id, job_id, variant) in newest.items()
    ]


def grid_fired_on(*, sprites):
    """Per unit index of the page, whether it fired on the dataset of the layer's newest
    dataset-examples job, in the shape of the unit card's ``fired_on`` (without the job):
    read from that job's sprite index, which the grid loads anyway (``grid_sprites``). Empty
    without such a job, or for one whose index predates the firing counts."""
    for sprite in sprites:
        if sprite.kind != Job.Kind.DATASET_EXAMPLES or not sprite.layout:
            continue
        searched = sprite.layout.get("fired_on")
        if searched is None:
            return {}
        return {
            place["index"]: {
                "dataset": searched["dataset"],
                "images": place["fired"],
                "of": searched["of"],
                "never_fired": place["fired"] == 0,
            }
            for place in sprite.layout["units"]
            if "fired" in place
        }
    return {}


def _layout(index_artifact, unit_indices):
    """``index_artifact``: (id, file name, sha256) of a sprite index, or None."""
    if index_artifact is None:
        return None
    layout = _sprite_index(*index_artifact)
    # A page shows some of the layer's units; the sheet's index lists every one of them.
    return {**layout, "units": [unit for unit in layout["units"] if unit["index"] in unit_indices]}


@functools.lru_cache(maxsize=32)
def _sprite_index(artifact_id, name, sha256):
    """The parsed index file of an artifact. Artifacts are written once and never change, and
    a layer's grid is loaded far more often than it is rendered: each process reads a file once
    (the result is shared, so callers copy what they change)."""
    with Artifact(pk=artifact_id, file=name).file.open("rb") as handle:
        return json.load(handle)
