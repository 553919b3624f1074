"""API token authentication: django-rest-knox's hashed, expiring tokens (annotations.ApiToken)."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.signals import token_expired

# How stale ``last_used`` may be: one write a minute per token, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <secret>``; an expired token is deleted and refused (knox). Notes
    when each token was last used, so that its owner can tell a forgotten token from a live one."""

    def authenticate_credentials(self, token):
        user, api_token = super().authenticate_credentials(token)
        now = timezone.now()
        if api_token.last_used is None or now - api_token.last_used >= LAST_USED_RESOLUTION:
            self._cleanup_other_tokens(api_token)
            type(api_token).objects.filter(pk=api_token.pk).update(last_used=now)
            api_token.last_used = now
        return user, api_token

    def _cleanup_token(self, auth_token) -> bool:
        """knox's check of the token presented: an expired one is deleted and skipped. knox also
        reads all of the user's other tokens here, on every request, to delete the expired
        ones; that is done with the ``last_used`` write instead, at most once a minute."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=type(self), username=username, source="auth_token")
            return True
        return False

    def _cleanup_other_tokens(self, auth_token):
        """The user's other tokens that have expired are deleted (as knox does)."""
        now = timezone.now()
        expired = (
            type(auth_token)
            .objects.filter(user_id=auth_token.user_id, expiry__lt=now)
            .exclude(pk=auth_token.pk)
        )
        for other_token in expired:
            other_token.delete()
            token_expired.send(
                sender=type(self), username=auth_token.user.get_username(), source="other_token"
            )


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The schema's ``tokenAuth``: ``Authorization: Token <secret>``."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )
