"""Reads of a user's own notifications, and where a notification's target is on the site."""

from django.conf import settings
from django.urls import reverse

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


def site_url(path):
    """The absolute address of ``path`` on this site (``ATLAS_SITE_URL``), for e-mails and
    webhook payloads."""
    return f"{settings.ATLAS_SITE_URL}{path}"


def notification_target_url(*, project_slug, target_type, target_id):
    """The page of a notification's target: a hypothesis, a comment, else the project."""
    if target_type == "hypothesis":
        path = reverse(
            "frontend:hypothesis", kwargs={"slug": project_slug, "hypothesis_id": target_id}
        )
    elif target_type == "comment":
        path = reverse("frontend:comment", kwargs={"slug": project_slug, "comment_id": target_id})
    else:
        path = reverse("frontend:project", kwargs={"slug": project_slug})
    return site_url(path)
