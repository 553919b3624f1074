"""Input serializers parse requests; output serializers render what selectors return."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from annotations.models import Project, Role
from server import text_limits
from workers.models import Network

_DATETIME = serializers.DateTimeField()


def datetime_data(value):
    """``value`` (a datetime or None) as a ``DateTimeField`` renders it: for responses built
    from plain values rather than through their serializer."""
    return None if value is None else _DATETIME.to_representation(value)


class TokenObtainInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=text_limits.USERNAME)
    password = serializers.CharField(
        max_length=text_limits.PASSWORD, trim_whitespace=False, style={"input_type": "password"}
    )


class UserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    # Not an EmailField: its schema says format "email", and an account may have none ("").
    email = serializers.CharField(help_text="The user's email address; empty when none is set.")
    is_superuser = serializers.BooleanField()


class ProjectSummaryOutputSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class MyMembershipOutputSerializer(serializers.Serializer):
    project = ProjectSummaryOutputSerializer()
    role = serializers.ChoiceField(choices=Role.choices)
    created_at = serializers.DateTimeField()


class MeOutputSerializer(serializers.Serializer):
    user = UserOutputSerializer()
    memberships = MyMembershipOutputSerializer(many=True)


class ProjectCreateInputSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=Project._meta.get_field("slug").max_length)
    name = serializers.CharField(max_length=Project._meta.get_field("name").max_length)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=text_limits.DESCRIPTION
    )


class ProjectUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(
        required=False, max_length=Project._meta.get_field("name").max_length
    )
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=text_limits.DESCRIPTION
    )
    assignments_need_review = serializers.BooleanField(
        required=False,
        help_text="Whether units change group only through reviewed hypotheses (owners excepted).",
    )
    required_approvals = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=100,
        help_text="How many approvals accept a hypothesis.",
    )


class ProjectOutputSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    version = serializers.IntegerField()
    assignments_need_review = serializers.BooleanField()
    required_approvals = serializers.IntegerField()
    role = serializers.ChoiceField(
        source="user_role",
        choices=Role.choices,
        allow_null=True,
        help_text="The caller's role in the project; null for a superuser who is not a member.",
    )


class MembershipAddInputSerializer(serializers.Serializer):
    username = serializers.SlugRelatedField(
        source="user", slug_field="username", queryset=get_user_model().objects.all()
    )
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipChangeInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipOutputSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    role = serializers.ChoiceField(choices=Role.choices)
    created_at = serializers.DateTimeField()


class ProjectNetworkOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SlugField()
    arch = serializers.CharField()
    source = serializers.ChoiceField(choices=Network.Source.choices)
    status = serializers.ChoiceField(
        choices=Network.Status.choices,
        help_text="inspecting: a worker is measuring its layers; failed: see its inspect job.",
    )
    layer_count = serializers.IntegerField()
    unit_count = serializers.IntegerField()
