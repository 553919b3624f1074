"""Writing the append-only event log; every service that changes something calls this.

Counting the project's change for the grid cache is a step of its own in each service
(``grid_changes.project_changed``), not a side effect of writing an event.
"""

from annotations.models import Event, Project


def events_record(events):
    """Append many unsaved events (``event_build``) at once: bulk changes write one event per
    object."""
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
