"""Use cases for people's accounts: creating users (API tokens: ``services/tokens.py``)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

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
