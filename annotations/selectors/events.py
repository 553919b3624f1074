"""Reads of the event log: a project's activity feed and the history of one of its objects."""

from annotations.models import Event
from server.errors import NotFound

# The objects whose history can be asked for by type and id.
HISTORY_TARGET_TYPES = ("group", "unit", "hypothesis", "comment", "circuit", "link", "round")
# The verbs of a unit changing group.
UNIT_VERBS = ("unit.assigned", "unit.unassigned")


def events_of(*, project):
    """The project's events, newest first, with their actors."""
    return (
        Event.objects.filter(project=project).select_related("actor").order_by("-created_at", "-id")
    )


def feed_of(events):
    """``events`` as the activity feed shows them: one entry per accepted hypothesis, its
    ``hypothesis.accepted`` event (naming its author, approvers and group), with the events of
    the units it put in a group folded into it. Each unit's own history keeps them."""
    return events.exclude(verb__in=UNIT_VERBS, after__has_key="hypothesis")


def history_of(*, project, target_type, target_id):
    """The events of ``project`` about one object, newest first; a deleted object keeps its
    history. Other projects' events about the same object (a unit) are never included."""
    if target_type not in HISTORY_TARGET_TYPES:
        raise NotFound(
            f"No history for {target_type!r}; ask for one of {', '.join(HISTORY_TARGET_TYPES)}.",
            code="unknown_target_type",
        )
    return events_of(project=project).filter(target_type=target_type, target_id=target_id)
