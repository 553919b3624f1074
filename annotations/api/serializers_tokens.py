"""API tokens in and out: the secret appears in one response only, the one that creates it."""

from django.conf import settings
from rest_framework import serializers

from annotations.api.serializers import TokenObtainInputSerializer
from annotations.models import ApiToken
from annotations.services.tokens import NAME_ON_SIGN_IN

NAME_LENGTH = ApiToken._meta.get_field("name").max_length


def _expires_in_days():
    return serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=settings.ATLAS_TOKEN_TTL_DAYS,
        help_text="Days the token lives; by default, and at most, the server's "
        f"ATLAS_TOKEN_TTL_DAYS ({settings.ATLAS_TOKEN_TTL_DAYS}).",
    )


class SignInInputSerializer(TokenObtainInputSerializer):
    name = serializers.CharField(max_length=NAME_LENGTH, default=NAME_ON_SIGN_IN)
    expires_in_days = _expires_in_days()


class TokenCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_LENGTH)
    expires_in_days = _expires_in_days()


class TokenOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.SerializerMethodField(
        help_text="The secret's first characters, to tell your tokens apart."
    )
    created = serializers.DateTimeField()
    expires = serializers.DateTimeField(source="expiry")
    last_used = serializers.DateTimeField(allow_null=True)

    def get_prefix(self, token) -> str:
        return token.token_key[:8]


class IssuedTokenOutputSerializer(TokenOutputSerializer):
    token = serializers.CharField(
        help_text="The secret: send it as `Authorization: Token <token>`. Shown only now."
    )

    def to_representation(self, issued):
        return {**TokenOutputSerializer(issued.token).data, "token": issued.secret}
