"""Writing the append-only event log; every service that changes something calls this."""

from annotations.models import Event
from annotations.services.grid_changes import project_changed


def event_record(
    *, project, actor, verb, target_type, target_id, label="", before=None, after=None
):
    """Append one event (inside the caller's transaction, so it commits with the change), and
    count a change of the project once that transaction commits."""
    project_changed(project_id=project.pk)
    return Event.objects.create(
        project=project,
        actor=actor,
        verb=verb,
        target_type=target_type,
        target_id=target_id,
        target_label=str(label)[:200],
        before=before,
        after=after,
    )


def events_record(events):
    """Append many ``Event`` objects at once (bulk changes write one event per object), and
    count a change of each of their projects once the transaction commits."""
    for project_id in {event.project_id for event in events}:
        project_changed(project_id=project_id)
    return Event.objects.bulk_create(events, batch_size=500)
