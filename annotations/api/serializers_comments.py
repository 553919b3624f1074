"""Input and output serializers of comments and notifications."""

from rest_framework import serializers

from annotations.models import Comment, Notification
from annotations.models.comments import BODY_MAX_LENGTH

TARGET_ID_HELP = (
    "The id of the group, hypothesis or circuit; for a unit its id or its address "
    "`network/layer:index` (`inceptionv1/mixed3b:379`)."
)


class CommentTargetQuerySerializer(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=Comment.TargetType.choices)
    target_id = serializers.CharField(max_length=200, help_text=TARGET_ID_HELP)


class CommentPostInputSerializer(CommentTargetQuerySerializer):
    body = serializers.CharField(
        max_length=BODY_MAX_LENGTH, trim_whitespace=False, help_text="Markdown."
    )
    parent = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="The comment this one answers (on the same target); omit to start a thread.",
    )


class CommentEditInputSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=BODY_MAX_LENGTH, trim_whitespace=False, help_text="Markdown."
    )


class CommentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    target_type = serializers.ChoiceField(choices=Comment.TargetType.choices)
    target_id = serializers.IntegerField()
    target_label = serializers.CharField()
    parent = serializers.IntegerField(
        source="parent_id", allow_null=True, help_text="The comment this one answers."
    )
    thread = serializers.IntegerField(
        source="thread_root_id", help_text="The id of the thread's first comment."
    )
    author = serializers.CharField(source="author.username", allow_null=True)
    body = serializers.CharField(help_text="Markdown source; empty once deleted.")
    body_html = serializers.CharField(help_text="Sanitized HTML, safe to insert as is.")
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    deleted_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(
        allow_null=True, help_text="When the thread was resolved; set on a thread's first comment."
    )
    resolved_by = serializers.CharField(source="resolved_by.username", allow_null=True)


class CommentThreadOutputSerializer(CommentOutputSerializer):
    replies = CommentOutputSerializer(
        many=True,
        help_text="Every later comment of the thread, oldest first; `parent` says which "
        "comment each one answers.",
    )


class CommentRevisionOutputSerializer(serializers.Serializer):
    body = serializers.CharField(help_text="The body before this edit.")
    edited_at = serializers.DateTimeField()
    editor = serializers.CharField(source="editor.username", allow_null=True)


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    project = serializers.SlugField(source="project.slug")
    actor = serializers.CharField(source="actor.username", allow_null=True)
    target_type = serializers.CharField(help_text='What it is about: "comment", "hypothesis".')
    target_id = serializers.IntegerField()
    text = serializers.CharField()
    read_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class UnreadCountOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class MarkReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=1000,
        help_text="The notifications to mark read.",
    )
    all = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Mark every notification of yours read (`ids` is then not needed).",
    )


class MarkReadOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many of your notifications became read.")
