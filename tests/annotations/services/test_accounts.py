import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from annotations.services.accounts import token_issue, token_revoke, user_create
from server.errors import Conflict, PermissionDenied, ValidationFailed
from tests.factories.annotations import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_user_create_makes_an_active_user_with_the_password():
    user = user_create(username="olah", password=PASSWORD, email="c@example.org", actor=None)

    user.refresh_from_db()
    assert (user.username, user.email, user.is_active, user.is_superuser, user.is_staff) == (
        "olah",
        "c@example.org",
        True,
        False,
        False,
    )
    assert user.check_password(PASSWORD)


def test_user_create_without_a_password_leaves_sign_in_to_tokens():
    user = user_create(username="notebook", actor=None)

    assert user.has_usable_password() is False


def test_user_create_superuser_is_also_staff():
    user = user_create(username="root", password=PASSWORD, is_superuser=True, actor=None)

    assert (user.is_superuser, user.is_staff) == (True, True)


def test_user_create_refuses_a_taken_username():
    UserFactory(username="olah", email="first@example.org")

    with pytest.raises(Conflict) as raised:
        user_create(username="olah", password=PASSWORD, email="second@example.org", actor=None)

    assert (raised.value.code, raised.value.detail) == (
        "username_taken",
        "A user named 'olah' already exists.",
    )
    assert list(User.objects.values_list("email", flat=True)) == ["first@example.org"]


def test_user_create_refuses_a_weak_password_and_a_bad_username():
    with pytest.raises(ValidationFailed) as raised:
        user_create(username="bad name!", password="123", actor=None)

    assert set(raised.value.fields) == {"username", "password"}
    assert raised.value.fields["password"] == [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ]
    assert not User.objects.exists()


def test_only_a_superuser_or_the_system_creates_users():
    with pytest.raises(PermissionDenied):
        user_create(username="intruder", password=PASSWORD, actor=UserFactory(username="olah"))

    assert list(User.objects.values_list("username", flat=True)) == ["olah"]


def test_token_issue_creates_the_token_once_and_returns_it_again():
    user = UserFactory(username="olah")

    first = token_issue(username="olah", password=PASSWORD)
    again = token_issue(username="olah", password=PASSWORD)

    assert (first.user, again.key) == (user, first.key)
    assert Token.objects.count() == 1


def test_token_issue_refuses_a_wrong_password_without_creating_a_token():
    UserFactory(username="olah")

    with pytest.raises(ValidationFailed) as raised:
        token_issue(username="olah", password="wrong")

    assert (raised.value.code, raised.value.detail) == (
        "invalid_credentials",
        "Unable to sign in with the given username and password.",
    )
    assert not Token.objects.exists()


def test_token_issue_refuses_an_inactive_user():
    UserFactory(username="olah", is_active=False)

    with pytest.raises(ValidationFailed):
        token_issue(username="olah", password=PASSWORD)

    assert not Token.objects.exists()


def test_token_revoke_deletes_only_the_actors_token():
    user = UserFactory()
    other = Token.objects.create(user=UserFactory())
    Token.objects.create(user=user)

    token_revoke(actor=user)

    assert list(Token.objects.all()) == [other]
