import pytest
from django.contrib.auth import get_user_model

from annotations.services.accounts import user_create
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
