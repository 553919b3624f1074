"""Events out of the app: a project's webhooks, their deliveries, and each user's choice of
notification e-mails."""

from django.conf import settings
from django.db import models

from annotations.models.notifications import Notification
from annotations.models.projects import Project


class Webhook(models.Model):
    """A URL of the project's that is sent the chosen event types, signed with ``secret``.

    The secret is stored as it is: each delivery signs with it (HMAC-SHA256), so a hash could
    not do. The API shows it once, in the answer to the registration, and never again.
    """

    class EventType(models.TextChoices):
        HYPOTHESIS_OPENED = "hypothesis.opened"
        HYPOTHESIS_DECIDED = "hypothesis.decided"
        HYPOTHESIS_REVIEWED = "hypothesis.reviewed"
        COMMENT_MENTION = "comment.mention"
        JOB_FINISHED = "job.finished"
        JOB_FAILED = "job.failed"
        RELEASE_MADE = "release.made"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    event_types = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one webhook, with what the last attempt got back."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RETRYING = "retrying"
        DELIVERED = "delivered"
        FAILED = "failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40, choices=Webhook.EventType.choices)
    # The JSON body, kept as sent so a redelivery sends the same event again.
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # Seconds the last attempt took, from sending the request to reading the answer.
    duration = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["webhook", "-created_at"])]

    def __str__(self):
        return f"{self.event_type} to {self.webhook_id}: {self.status}"


class EmailPreference(models.Model):
    """How a user hears of mentions and review notifications by e-mail; a user without a row
    gets none."""

    class Mode(models.TextChoices):
        OFF = "off"
        IMMEDIATE = "immediate"
        DAILY = "daily"

    # The notification kinds that may be e-mailed.
    KINDS = (
        Notification.Kind.MENTION,
        Notification.Kind.REVIEW,
        Notification.Kind.REVIEW_REQUEST,
    )

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preference"
    )
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.OFF)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user_id}: {self.mode}"
