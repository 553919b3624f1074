"""Creating and reading notifications."""

from django.utils import timezone

from annotations.models import Membership, Notification


def notify(*, project, recipients, kind, actor, target_type, target_id, text):
    """Notify each of ``recipients`` who is still a project member, never the actor themself.
    Returns the notifications created."""
    member_ids = set(
        Membership.objects.filter(project=project, user__in=recipients).values_list(
            "user_id", flat=True
        )
    )
    actor_id = actor.pk if actor is not None else None
    rows = [
        Notification(
            recipient_id=user_id,
            project=project,
            actor=actor,
            kind=kind,
            target_type=target_type,
            target_id=target_id,
            text=text[:300],
        )
        for user_id in sorted(member_ids - {actor_id})
    ]
    return Notification.objects.bulk_create(rows)


def notifications_mark_read(*, recipient, ids=None):
    """Mark the recipient's notifications read (``ids`` or all); returns how many changed."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
