"""Reads of a project's webhooks and their delivery log, and of a user's e-mail choice."""

from annotations.models import EmailPreference, Webhook, WebhookDelivery
from server.errors import NotFound


def webhooks_of(*, project):
    return Webhook.objects.filter(project=project).select_related("created_by").order_by("id")


def webhook_get(*, project, webhook_id):
    """A webhook of ``project``; NotFound for another project's or a missing one."""
    webhook = Webhook.objects.filter(project=project, pk=webhook_id).select_related("project")
    webhook = webhook.first()
    if webhook is None:
        raise NotFound("Webhook not found.")
    return webhook


def deliveries_of(*, webhook):
    """The webhook's deliveries, newest first."""
    return WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at", "-id")


def delivery_get(*, webhook, delivery_id):
    delivery = WebhookDelivery.objects.filter(webhook=webhook, pk=delivery_id).first()
    if delivery is None:
        raise NotFound("Delivery not found.")
    delivery.webhook = webhook
    return delivery


def email_mode_of(*, user):
    """How ``user`` hears of mentions and reviews by e-mail (``off`` without a choice)."""
    mode = EmailPreference.objects.filter(user=user).values_list("mode", flat=True).first()
    return mode or EmailPreference.Mode.OFF
