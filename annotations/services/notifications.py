"""Creating and reading notifications."""

from django.utils import timezone

from annotations.models import Membership, Notification, Webhook
from annotations.selectors.notifications import notification_target_url
from annotations.services.emails import notifications_email_after_commit
from annotations.services.webhooks import webhooks_emit


def notify(*, project, recipients, kind, actor, target_type, target_id, text):
    """Notify each of ``recipients`` who is still a project member, never the actor themself.
    Recipients who chose immediate e-mails are mailed after commit, and a mention goes to the
    project's ``comment.mention`` webhooks. Returns the notifications created."""
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
    created = Notification.objects.bulk_create(rows)
    if created:
        notifications_email_after_commit(created)
    if created and kind == Notification.Kind.MENTION:
        webhooks_emit(
            project=project,
            event_type=Webhook.EventType.COMMENT_MENTION,
            data=lambda: {
                "mentioned": sorted(
                    Membership.objects.filter(
                        project=project, user_id__in=[row.recipient_id for row in created]
                    ).values_list("user__username", flat=True)
                ),
                "by": actor.username if actor is not None else None,
                "target": {
                    "type": target_type,
                    "id": target_id,
                    "url": notification_target_url(
                        project_slug=project.slug, target_type=target_type, target_id=target_id
                    ),
                },
                "text": text[:300],
            },
        )
    return created


def notifications_mark_read(*, recipient, ids=None):
    """Mark the recipient's notifications read (``ids`` or all); returns how many changed."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
