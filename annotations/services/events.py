"""Writing the append-only event log; every service that changes something calls this."""

from annotations.models import Event, Project
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


def event_build(instance, verb, *, actor, project=None, before=None, after=None):
    """An unsaved ``Event``: ``actor`` did ``verb`` to ``instance``, for ``events_record``.

    The target's type, id and label come from the instance (as Wagtail's ``log(instance,
    action)``): the type is the model's ``event_type`` or its model name, the label its
    ``event_label`` or ``str()``. ``project`` is needed only where the instance holds none (a
    unit belongs to a network, not to a project).
    """
    if project is None:
        project = instance if isinstance(instance, Project) else instance.project
    model = type(instance)
    return Event(
        project=project,
        actor=actor,
        verb=verb,
        target_type=getattr(model, "event_type", model._meta.model_name),
        target_id=instance.pk,
        target_label=str(getattr(instance, "event_label", instance))[:200],
        before=before,
        after=after,
    )


def event_log(instance, verb, *, actor, project=None, before=None, after=None):
    """Append one event about ``instance`` inside the caller's transaction (see
    ``event_build``). Counting the project's change for the grid cache is the caller's own
    step (``project_changed``)."""
    event = event_build(instance, verb, actor=actor, project=project, before=before, after=after)
    event.save()
    return event
