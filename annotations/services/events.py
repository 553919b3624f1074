"""Writing the append-only event log; every service that changes something calls this."""

from annotations.models import Event


def event_record(
    *, project, actor, verb, target_type, target_id, label="", before=None, after=None
):
    """Append one event (inside the caller's transaction, so it commits with the change)."""
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
    """Append many ``Event`` objects at once (bulk changes write one event per object)."""
    return Event.objects.bulk_create(events, batch_size=500)
