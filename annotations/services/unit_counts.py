"""Keeping the layer grid's per-unit counts (``UnitCounts``) equal to what they count.

Every service that posts or deletes a comment on a unit, or opens, revises or closes a
hypothesis, calls ``unit_counts_add`` inside its own transaction, after its conditional write
succeeded, so a count moves exactly when the rows it counts do and commits or rolls back with
them. Changes are increments (``count = count + n`` on the row, never a value computed
from a read), so concurrent writers add up instead of overwriting each other. Rows are
locked in unit order, so two writers touching overlapping units cannot deadlock on them.
``unit_counts_rebuild`` recounts from scratch, for rows written around the services (bulk
loads); ``unit_counts_counted`` is the definition both sides are checked against.
"""

from django.db import connection
from django.db.models import Count, F

from annotations.models import Comment, Hypothesis, HypothesisUnit, UnitCounts
from annotations.services.grid_changes import project_changed
from workers.models import Unit

# Rows per INSERT: four parameters each, well under SQLite's limit on parameters.
BATCH_SIZE = 200


class CountsOutOfStep(RuntimeError):
    """A decrement found no row to take from: a count was never added. A bug, not a user
    error; raised inside the writer's transaction so that nothing of the change is kept."""


def unit_counts_add(*, project_id, unit_ids, comments=0, open_hypotheses=0):
    """Add ``comments`` and ``open_hypotheses`` (each may be negative, not both of different
    signs) to the counts of each unit of ``unit_ids`` in the project. Call inside the
    transaction of the change being counted."""
    unit_ids = sorted(set(unit_ids))
    if not unit_ids or (comments == 0 and open_hypotheses == 0):
        return
    if comments < 0 < open_hypotheses or open_hypotheses < 0 < comments:
        raise ValueError("add and take away in separate calls")
    if comments > 0 or open_hypotheses > 0:
        _increment(project_id, {unit_id: (comments, open_hypotheses) for unit_id in unit_ids})
    else:
        _decrement(project_id, unit_ids, -comments, -open_hypotheses)


def unit_counts_add_open_hypotheses(*, project_id, open_hypotheses_by_unit):
    """Add ``open_hypotheses_by_unit[unit id]`` (at least 1) open hypotheses to each unit, in
    one pass (an import opens many hypotheses at once)."""
    if any(count < 1 for count in open_hypotheses_by_unit.values()):
        raise ValueError("only additions")
    _increment(
        project_id, {unit_id: (0, count) for unit_id, count in open_hypotheses_by_unit.items()}
    )


def _table():
    return connection.ops.quote_name(UnitCounts._meta.db_table)


# Written out: the ORM's upsert (bulk_create with update_conflicts) sets a column to the new
# row's value and cannot add to it.
_UPSERT_SQL = """
INSERT INTO {table} (project_id, unit_id, comments, open_hypotheses) VALUES {values}
ON CONFLICT (project_id, unit_id) DO UPDATE SET
    comments = {table}.comments + excluded.comments,
    open_hypotheses = {table}.open_hypotheses + excluded.open_hypotheses
"""


def _increment(project_id, changes):
    """``changes``: ``{unit id: (comments, open hypotheses)}``, none negative. One upsert per
    batch; rows are inserted or locked in the order of the VALUES list, by unit id."""
    table = _table()
    unit_ids = sorted(changes)
    for start in range(0, len(unit_ids), BATCH_SIZE):
        batch = unit_ids[start : start + BATCH_SIZE]
        sql = _UPSERT_SQL.format(table=table, values=", ".join(["(%s, %s, %s, %s)"] * len(batch)))
        params = [value for unit_id in batch for value in (project_id, unit_id, *changes[unit_id])]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _decrement(project_id, unit_ids, comments, open_hypotheses):
    rows = UnitCounts.objects.filter(project_id=project_id, unit_id__in=unit_ids)
    # Lock in unit order first: an UPDATE locks its rows in whatever order it finds them.
    locked = list(rows.order_by("unit_id").select_for_update().values_list("pk", flat=True))
    if len(locked) != len(unit_ids):
        raise CountsOutOfStep(
            f"project {project_id}: no counts to take from for "
            f"{len(unit_ids) - len(locked)} of units {unit_ids[:20]}"
        )
    UnitCounts.objects.filter(pk__in=locked).update(
        comments=F("comments") - comments, open_hypotheses=F("open_hypotheses") - open_hypotheses
    )


def unit_counts_rebuild(*, project_id):
    """Recount every unit of the project from the comments and hypotheses themselves, for
    rows written around the services (a bulk load). Call where no other writer changes the
    project meanwhile: the counts are read, then written. The grid shows the counts, so this
    counts as a change of the project (it writes no event)."""
    project_changed(project_id=project_id)
    UnitCounts.objects.filter(project_id=project_id).delete()
    UnitCounts.objects.bulk_create(
        [
            UnitCounts(
                project_id=project_id,
                unit_id=unit_id,
                comments=counts["comments"],
                open_hypotheses=counts["open_hypotheses"],
            )
            for unit_id, counts in sorted(unit_counts_counted(project_id=project_id).items())
        ],
        batch_size=1000,
    )


def unit_counts_counted(*, project_id):
    """``{unit id: {"comments", "open_hypotheses"}}`` counted from the rows they count (units
    with neither are left out): what ``UnitCounts`` must hold."""
    counted = {}
    comments = (
        Comment.objects.filter(
            project_id=project_id,
            target_type=Comment.TargetType.UNIT,
            deleted_at__isnull=True,
            # A comment's target is a bare id: skip comments on units deleted since.
            target_id__in=Unit.objects.values("pk"),
        )
        .values_list("target_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for unit_id, count in comments:
        counted[unit_id] = {"comments": count, "open_hypotheses": 0}
    open_units = (
        HypothesisUnit.objects.filter(
            hypothesis__project_id=project_id, hypothesis__status=Hypothesis.Status.OPEN
        )
        .values_list("unit_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for unit_id, count in open_units:
        counted.setdefault(unit_id, {"comments": 0, "open_hypotheses": 0})
        counted[unit_id]["open_hypotheses"] = count
    return counted
