"""API token authentication: django-rest-knox's hashed, expiring tokens (annotations.ApiToken)."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication

# How stale ``last_used`` may be: one write a minute per token, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <secret>``; an expired token is deleted and refused (knox). Notes
    when each token was last used, so that its owner can tell a forgotten token from a live one."""

    def authenticate_credentials(self, token):
        user, api_token = super().authenticate_credentials(token)
        now = timezone.now()
        if api_token.last_used is None or now - api_token.last_used >= LAST_USED_RESOLUTION:
            type(api_token).objects.filter(pk=api_token.pk).update(last_used=now)
            api_token.last_used = now
        return user, api_token


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The schema's ``tokenAuth``: ``Authorization: Token <secret>``."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )
