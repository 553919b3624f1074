"""Notification e-mails: each user's choice (off, immediate, daily digest), and sending them.

``notify`` hands each new mention or review notification of a user who chose "immediate" to
the ``send_notification_email`` task after commit; the daily ``send_email_digests`` task (the
beat schedule in ``server/settings.py``) mails each user who chose "daily" what they were not
yet mailed. ``Notification.emailed_at`` marks what went out, so nothing is mailed twice.
"""

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from annotations.formats.notification_emails import digest_email, notification_email
from annotations.models import EmailPreference, Notification
from annotations.selectors.notifications import notification_target_url
from server.errors import Unprocessable, ValidationFailed

logger = logging.getLogger(__name__)

Mode = EmailPreference.Mode
# A digest does not reach back further than this (a user who just chose it is not mailed
# their whole history).
DIGEST_WINDOW = timedelta(days=7)


def email_preference_set(*, user, mode, actor):
    """Set how ``user`` (who must be ``actor``) hears of mentions, reviews and review
    requests by e-mail."""
    if actor is None or actor.pk != user.pk:
        raise ValueError("users set only their own e-mail preference")
    if mode not in Mode.values:
        raise ValidationFailed(
            f"Unknown mode {mode!r}.",
            fields={"mode": [f"Choose one of: {', '.join(Mode.values)}."]},
        )
    if mode != Mode.OFF and not user.email:
        raise Unprocessable(
            "Your account has no e-mail address to send to.",
            code="no_email",
            fields={"mode": ["Needs an e-mail address on your account."]},
        )
    preference, _ = EmailPreference.objects.update_or_create(user=user, defaults={"mode": mode})
    return preference


def notifications_email_after_commit(notifications):
    """Queue an immediate e-mail for each of ``notifications`` (just created) whose kind is
    e-mailed and whose recipient chose immediate e-mails."""
    mailed = [n for n in notifications if n.kind in EmailPreference.KINDS]
    if not mailed:
        return
    immediate = set(
        EmailPreference.objects.filter(
            user__in={n.recipient_id for n in mailed}, mode=Mode.IMMEDIATE
        ).values_list("user_id", flat=True)
    )
    ids = [n.pk for n in mailed if n.recipient_id in immediate]
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))


def notification_email_send(*, notification_id):
    """E-mail one notification if its recipient still wants immediate e-mails and it was not
    mailed yet. Returns whether it was sent."""
    notification = (
        Notification.objects.select_related("recipient", "project")
        .filter(
            pk=notification_id,
            emailed_at__isnull=True,
            kind__in=EmailPreference.KINDS,
            recipient__email_preference__mode=Mode.IMMEDIATE,
        )
        .exclude(recipient__email="")
        .first()
    )
    if notification is None or not _claim([notification.pk]):
        return False
    subject, body = notification_email(
        text=notification.text,
        project_name=notification.project.name,
        link=_link(notification),
    )
    _send(subject, body, notification.recipient.email, [notification.pk])
    return True


def email_digests_send(*, now=None):
    """Mail each user who chose the daily digest the mention, review and review-request
    notifications of the last week not yet mailed (nor read). Returns how many digests went
    out."""
    now = now or timezone.now()
    pending = (
        Notification.objects.filter(
            emailed_at__isnull=True,
            read_at__isnull=True,
            kind__in=EmailPreference.KINDS,
            created_at__gte=now - DIGEST_WINDOW,
            recipient__email_preference__mode=Mode.DAILY,
        )
        .exclude(recipient__email="")
        .select_related("recipient", "project")
        .order_by("recipient_id", "created_at", "id")
    )
    by_user = {}
    for notification in pending:
        by_user.setdefault(notification.recipient, []).append(notification)
    sent = 0
    for user, notifications in by_user.items():
        ids = _claim([n.pk for n in notifications])
        if not ids:
            continue
        items = [(n.project.name, n.text, _link(n)) for n in notifications if n.pk in ids]
        subject, body = digest_email(username=user.username, items=items)
        _send(subject, body, user.email, ids)
        sent += 1
    return sent


def _claim(ids):
    """Mark the notifications mailed; the ids this call marked (another run may have taken
    some)."""
    claimed = []
    now = timezone.now()
    for notification_id in ids:
        if Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
            emailed_at=now
        ):
            claimed.append(notification_id)
    return set(claimed)


def _send(subject, body, address, ids):
    try:
        send_mail(subject, body, None, [address])
    except Exception:
        # Not sent: the next digest (or a retry) may send them.
        Notification.objects.filter(pk__in=ids).update(emailed_at=None)
        raise


def _link(notification):
    return notification_target_url(
        project_slug=notification.project.slug,
        target_type=notification.target_type,
        target_id=notification.target_id,
    )


def _enqueue(notification_ids):
    from annotations.tasks import send_notification_email

    for notification_id in notification_ids:
        try:
            send_notification_email.delay(notification_id)
        except Exception as error:  # the broker is down: the daily digest does not take it
            logger.warning("notification %s: e-mail not queued (%r)", notification_id, error)
