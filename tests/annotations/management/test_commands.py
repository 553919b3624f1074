import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from annotations.models import ApiToken, Membership, Project, Role
from tests.factories.annotations import PASSWORD, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def _run(*args, **options):
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_createuser_with_a_password():
    output = _run("createuser", "olah", "--password", PASSWORD, "--email", "olah@example.org")

    user = User.objects.get()
    assert output == "Created user 'olah'.\n"
    assert (user.username, user.email, user.is_superuser) == ("olah", "olah@example.org", False)
    assert user.check_password(PASSWORD)


def test_createuser_reads_the_password_from_stdin():
    _run("createuser", "olah", "--password-stdin", stdin=io.StringIO(f"{PASSWORD}\n"))

    assert User.objects.get().check_password(PASSWORD)


def test_createuser_prints_a_token_that_authenticates_the_user():
    output = _run("createuser", "notebook", "--token")

    created, secret = output.splitlines()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert created == "Created user 'notebook'."
    assert client.get("/api/v1/auth/me/").json()["user"]["username"] == "notebook"
    assert ApiToken.objects.values_list("user__username", "name").get() == (
        "notebook",
        "createuser --token",
    )


def test_createuser_makes_a_superuser():
    _run("createuser", "root", "--password", PASSWORD, "--superuser")

    assert User.objects.values_list("is_superuser", "is_staff").get() == (True, True)


def test_createuser_refuses_an_existing_username():
    UserFactory(username="olah", email="first@example.org")

    with pytest.raises(CommandError) as raised:
        _run("createuser", "olah", "--password", PASSWORD, "--email", "second@example.org")

    assert str(raised.value) == (
        "A user named 'olah' already exists. username: This username is taken."
    )
    assert list(User.objects.values_list("email", flat=True)) == ["first@example.org"]


def test_createuser_refuses_a_weak_password():
    with pytest.raises(CommandError) as raised:
        _run("createuser", "olah", "--password", "olah")

    assert str(raised.value) == (
        "The user has invalid fields. password: The password is too similar to the username. "
        "This password is too short. It must contain at least 8 characters."
    )
    assert not User.objects.exists()


def test_createuser_takes_one_password_source_only():
    with pytest.raises(CommandError, match="not allowed with argument --password"):
        _run("createuser", "olah", "--password", PASSWORD, "--password-stdin")

    assert not User.objects.exists()


def test_create_project_makes_the_owner():
    owner = UserFactory(username="olah")

    output = _run(
        "create_project",
        "--slug",
        "curves",
        "--name",
        "Curves",
        "--owner",
        "olah",
        "--description",
        "Curve detectors",
    )

    project = Project.objects.get()
    assert output == "Created project 'curves' owned by 'olah'.\n"
    assert (project.slug, project.name, project.description) == (
        "curves",
        "Curves",
        "Curve detectors",
    )
    assert list(Membership.objects.values_list("user", "role")) == [(owner.pk, "owner")]


def test_create_project_refuses_an_unknown_owner():
    with pytest.raises(CommandError) as raised:
        _run("create_project", "--slug", "curves", "--name", "Curves", "--owner", "ghost")

    assert str(raised.value) == "Unknown user 'ghost'."
    assert not Project.objects.exists()


def test_create_project_refuses_a_taken_slug():
    ProjectFactory(slug="curves")
    UserFactory(username="olah")

    with pytest.raises(CommandError) as raised:
        _run("create_project", "--slug", "curves", "--name", "Curves", "--owner", "olah")

    assert str(raised.value) == (
        "A project with the slug 'curves' already exists. slug: This slug is taken."
    )
    assert Project.objects.count() == 1


def test_add_member_adds_a_user():
    ProjectFactory(slug="curves")
    UserFactory(username="voss")

    output = _run("add_member", "--project", "curves", "--user", "voss", "--role", "reviewer")

    assert output == "'voss' is now reviewer of project 'curves'.\n"
    assert list(Membership.objects.values_list("user__username", "role")) == [("voss", "reviewer")]


def test_add_member_changes_the_role_of_a_member():
    MembershipFactory(project__slug="curves", user__username="voss", role=Role.VIEWER)

    _run("add_member", "--project", "curves", "--user", "voss", "--role", "annotator")

    assert list(Membership.objects.values_list("user__username", "role")) == [("voss", "annotator")]


def test_add_member_refuses_an_unknown_project():
    UserFactory(username="voss")

    with pytest.raises(CommandError) as raised:
        _run("add_member", "--project", "ghost", "--user", "voss", "--role", "viewer")

    assert str(raised.value) == "Unknown project 'ghost'."
    assert not Membership.objects.exists()


def test_add_member_refuses_an_unknown_user():
    ProjectFactory(slug="curves")

    with pytest.raises(CommandError) as raised:
        _run("add_member", "--project", "curves", "--user", "ghost", "--role", "viewer")

    assert str(raised.value) == "Unknown user 'ghost'."
    assert not Membership.objects.exists()


def test_add_member_refuses_an_unknown_role():
    ProjectFactory(slug="curves")
    UserFactory(username="voss")

    with pytest.raises(CommandError, match=re.escape("invalid choice: 'boss'")):
        _run("add_member", "--project", "curves", "--user", "voss", "--role", "boss")

    assert not Membership.objects.exists()


def test_add_member_keeps_the_last_owner():
    MembershipFactory(project__slug="curves", user__username="olah", role=Role.OWNER)

    with pytest.raises(CommandError) as raised:
        _run("add_member", "--project", "curves", "--user", "olah", "--role", "viewer")

    assert str(raised.value) == (
        "Cannot change the role of the last owner; make another member an owner first."
    )
    assert list(Membership.objects.values_list("role", flat=True)) == ["owner"]
