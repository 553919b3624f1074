"""Reads of a user's own notifications."""

from annotations.models import Notification


def notifications_for_user(*, user):
    """``user``'s notifications, newest first."""
    return (
        Notification.objects.filter(recipient=user)
        .select_related("project", "actor")
        .order_by("-created_at", "-id")
    )


def notifications_unread_count(*, user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
