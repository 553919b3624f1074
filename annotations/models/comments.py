"""Threaded discussion on a unit, group, hypothesis or circuit, and each comment's edits."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.models.projects import Project

BODY_MAX_LENGTH = 10_000
DELETED_HTML = '<p class="comment-deleted">This comment was deleted.</p>'


class Comment(models.Model):
    """One comment. A thread is a root comment (no parent) and every comment under it."""

    class TargetType(models.TextChoices):
        UNIT = "unit"
        GROUP = "group"
        HYPOTHESIS = "hypothesis"
        CIRCUIT = "circuit"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="comments")
    target_type = models.CharField(max_length=20, choices=TargetType.choices)
    # The primary key of the unit, group, hypothesis or circuit.
    target_id = models.BigIntegerField()
    # How the target reads ("inceptionv1/mixed3b:379", "Curves"), for notifications and feeds.
    target_label = models.CharField(max_length=200, blank=True)
    # The comment this one answers; null for a thread's root.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The thread's root, so a whole thread is one indexed lookup; null for the root itself.
    root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="thread_replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(blank=True, help_text="Markdown source; blank once deleted.")
    body_html = models.TextField(help_text="The body rendered and sanitized when written.")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Soft delete: the row stays so that replies keep their place in the thread.
    deleted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["project", "target_type", "target_id", "created_at"]),
            # The layer grid counts each unit's standing comments (bench/API.md).
            models.Index(
                fields=["project", "target_type", "target_id"],
                condition=Q(deleted_at__isnull=True),
                name="comment_live_by_target",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | Q(resolved_at__isnull=True),
                name="comment_resolved_only_at_thread_root",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, root__isnull=True)
                | Q(parent__isnull=False, root__isnull=False),
                name="comment_reply_has_root",
            ),
        ]

    def __str__(self):
        return f"comment {self.pk} on {self.target_type}:{self.target_id}"

    @property
    def event_label(self):
        return f"comment on {self.target_type} {self.target_label}"

    @property
    def thread_root_id(self):
        return self.root_id or self.pk


class CommentRevision(models.Model):
    """A comment's body as it read before one edit by its author."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    edited_at = models.DateTimeField()
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["comment_id", "edited_at", "id"]

    def __str__(self):
        return f"revision {self.pk} of comment {self.comment_id}"
