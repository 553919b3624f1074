"""Counting a project's committed changes, so cached grid pages can tell they are stale.

Every service that changes a project calls ``project_changed`` as a step of its own, beside
the events it writes. The count is raised by one ``INSERT … ON CONFLICT DO UPDATE SET count =
count + 1`` run by ``transaction.on_commit``: after the writing transaction has committed, as
a statement of its own. It takes no lock inside the writer's transaction, so it adds no lock
ordering to the services and cannot deadlock with them, and a transaction that rolls back
raises nothing. Why this keeps the grid correct is in ``annotations/api/views/grid.py``.
"""

from django.db import connection, transaction

from annotations.models import ProjectChanges

# Written out: the ORM's upsert sets a column to the new row's value and cannot add to it.
_COUNT_SQL = """
INSERT INTO {table} (project_id, count) VALUES (%s, 1)
ON CONFLICT (project_id) DO UPDATE SET count = {table}.count + 1
"""


class _CountChange:
    """The after-commit callback for one project (a class so that a transaction registers
    one per project: see ``project_changed``)."""

    def __init__(self, project_id):
        self.project_id = project_id

    def __call__(self):
        sql = _COUNT_SQL.format(table=connection.ops.quote_name(ProjectChanges._meta.db_table))
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.project_id])


def project_changed(*, project_id):
    """Count one change of project ``project_id`` once the current transaction commits (at
    once outside a transaction); once per transaction however many events it writes."""
    # Django drops the callbacks of a savepoint that rolls back from this list, so a callback
    # found here still stands: the change it counts commits with this one or not at all.
    for _savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, _CountChange) and callback.project_id == project_id:
            return
    # robust: the writer's transaction has already committed; a failed count leaves pages
    # stale for at most ATLAS_GRID_CACHE_SECONDS, a raised error would report a committed
    # change as failed.
    transaction.on_commit(_CountChange(project_id), robust=True)
