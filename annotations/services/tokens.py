"""Use cases for API tokens: sign in for one, create one, revoke one. Tokens are hashed and
expire (django-rest-knox with annotations.ApiToken); the secret is returned once, here."""

from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from annotations.models import ApiToken
from server.errors import AuthenticationFailed, Conflict, ValidationFailed

# Enough for every notebook and CI job a person runs; a bound on rows a stolen password can make.
MAX_LIVE_TOKENS = 100
NAME_ON_SIGN_IN = "Signed in with a password"


class IssuedToken(NamedTuple):
    token: ApiToken
    # The only time the secret exists outside the client: the database keeps its digest.
    secret: str


def token_create(*, actor, name, expires_in_days=None):
    """A new API token for ``actor``, living ``expires_in_days`` days: by default, and at most,
    ATLAS_TOKEN_TTL_DAYS."""
    longest = settings.ATLAS_TOKEN_TTL_DAYS
    days = longest if expires_in_days is None else expires_in_days
    if not 1 <= days <= longest:
        raise ValidationFailed(
            "The token's lifetime is out of range.",
            fields={"expires_in_days": [f"A whole number of days from 1 to {longest}."]},
        )
    now = timezone.now()
    ApiToken.objects.filter(user=actor, expiry__lte=now).delete()
    if ApiToken.objects.filter(user=actor).count() >= MAX_LIVE_TOKENS:
        raise Conflict(
            f"You have {MAX_LIVE_TOKENS} live API tokens; revoke one before creating another.",
            code="too_many_tokens",
        )
    token, secret = ApiToken.objects.create(user=actor, expiry=timedelta(days=days), name=name)
    return IssuedToken(token=token, secret=secret)


def token_rotate(*, actor, name, expires_in_days=None):
    """A new API token named ``name`` for ``actor``, revoking their earlier tokens of that name
    (a demo login seeded again, a CI job's token renewed)."""
    with transaction.atomic():
        ApiToken.objects.filter(user=actor, name=name).delete()
        return token_create(actor=actor, name=name, expires_in_days=expires_in_days)


def token_issue(*, username, password, name=NAME_ON_SIGN_IN, expires_in_days=None):
    """A new API token for the user with these credentials. At the live-token limit the
    oldest token of the same name makes room, so a script that signs in on every run is never
    locked out; tokens of other names are never touched."""
    user = authenticate(username=username, password=password)
    if user is None:
        raise AuthenticationFailed(
            "Unable to sign in with the given username and password.", code="invalid_credentials"
        )
    with transaction.atomic():
        ApiToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
        excess = ApiToken.objects.filter(user=user).count() - MAX_LIVE_TOKENS + 1
        if excess > 0:
            oldest = ApiToken.objects.filter(user=user, name=name).order_by("created", "id")
            ApiToken.objects.filter(
                pk__in=list(oldest.values_list("pk", flat=True)[:excess])
            ).delete()
        return token_create(actor=user, name=name, expires_in_days=expires_in_days)


def token_revoke(*, token, actor):
    """Delete ``token``, one of ``actor``'s; requests carrying it are refused from now on."""
    ApiToken.objects.filter(pk=token.pk, user=actor).delete()
