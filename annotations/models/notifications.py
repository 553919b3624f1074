"""Notifications: a mention, a review of my hypothesis, a reply in a thread I took part in, a
hypothesis that asks for my review."""

from django.conf import settings
from django.db import models

from annotations.models.projects import Project


class Notification(models.Model):
    class Kind(models.TextChoices):
        MENTION = "mention"
        REVIEW = "review"
        REPLY = "reply"
        HYPOTHESIS_ACCEPTED = "hypothesis_accepted"
        # A hypothesis opened or revised: each member who may review it is asked to.
        REVIEW_REQUEST = "review_request"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # What it is about, as in Event: "comment", "hypothesis", ...
    target_type = models.CharField(max_length=30)
    target_id = models.BigIntegerField()
    text = models.CharField(max_length=300)
    read_at = models.DateTimeField(null=True, blank=True)
    # When it went out by e-mail (immediately or in a daily digest); None: not (yet) e-mailed.
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"])]

    def __str__(self):
        return f"{self.kind} for {self.recipient_id}"
