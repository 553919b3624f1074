"""Reads of a user's own API tokens."""

from django.utils import timezone

from annotations.models import ApiToken
from server.errors import NotFound


def tokens_of(*, user):
    """``user``'s tokens that still work, newest first."""
    return ApiToken.objects.filter(user=user).exclude(expiry__lte=timezone.now())


def token_get_for_user(*, user, token_id):
    """One of ``user``'s live tokens; another's token and a missing one are the same 404."""
    token = tokens_of(user=user).filter(pk=token_id).first()
    if token is None:
        raise NotFound("API token not found.")
    return token
