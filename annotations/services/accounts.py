"""Use cases for people's accounts: creating users, API tokens."""

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from annotations.policies import authorize
from server.errors import Conflict, ValidationFailed


def user_create(*, username, password=None, email="", is_superuser=False, actor):
    """Create an active user; without a password the user can sign in only with a token."""
    authorize(actor=actor, action="user.create", obj=None)
    user_model = get_user_model()
    user = user_model(
        username=username, email=email, is_superuser=is_superuser, is_staff=is_superuser
    )
    fields = {}
    for field in ("username", "email"):
        try:
            user_model._meta.get_field(field).clean(getattr(user, field), user)
        except ValidationError as error:
            fields[field] = error.messages
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as error:
            fields["password"] = error.messages
    if fields:
        raise ValidationFailed("The user has invalid fields.", fields=fields)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        raise Conflict(
            f"A user named {username!r} already exists.",
            code="username_taken",
            fields={"username": ["This username is taken."]},
        ) from error
    return user


def token_issue(*, username, password):
    """The API token of the user with these credentials, created on first use."""
    user = authenticate(username=username, password=password)
    if user is None:
        raise ValidationFailed(
            "Unable to sign in with the given username and password.", code="invalid_credentials"
        )
    return token_get_or_create(user=user)


def token_get_or_create(*, user):
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, actor):
    """Delete ``actor``'s API token; requests carrying it are refused from now on."""
    Token.objects.filter(user=actor).delete()
