"""Celery tasks of the annotations side: thin wrappers that take ids and call one service."""

from celery import shared_task

from annotations.services.emails import email_digests_send, notification_email_send
from annotations.services.webhook_delivery import webhook_delivery_attempt


@shared_task(bind=True, name="annotations.tasks.deliver_webhook", queue="default", max_retries=None)
def deliver_webhook(self, delivery_id):
    """Attempt a webhook delivery; the delivery's row counts the attempts and says when to
    try again (``ATLAS_WEBHOOK_MAX_ATTEMPTS``, ``ATLAS_WEBHOOK_BACKOFF_SECONDS``)."""
    retry_in = webhook_delivery_attempt(delivery_id=delivery_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(name="annotations.tasks.send_notification_email", queue="default")
def send_notification_email(notification_id):
    """E-mail one notification to a recipient who asked for immediate e-mails."""
    return notification_email_send(notification_id=notification_id)


@shared_task(name="annotations.tasks.send_email_digests", queue="default")
def send_email_digests():
    """The daily digest: each user who chose it gets their notifications not yet e-mailed."""
    return email_digests_send()
