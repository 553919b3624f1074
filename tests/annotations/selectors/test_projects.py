import pytest

from annotations.models import Role
from annotations.selectors.projects import (
    membership_get,
    project_get_for_user,
    project_members,
    projects_for_user,
    user_memberships,
)
from server.errors import NotFound, PermissionDenied
from tests.factories.annotations import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_project_get_for_user_returns_the_project_with_the_users_role():
    member = MembershipFactory(role=Role.ANNOTATOR, project__slug="curves")

    project = project_get_for_user(user=member.user, slug="curves")

    assert (project, project.user_role) == (member.project, "annotator")


def test_project_get_for_user_gives_the_same_not_found_for_missing_and_forbidden():
    ProjectFactory(slug="curves")
    outsider = UserFactory()

    with pytest.raises(NotFound) as forbidden:
        project_get_for_user(user=outsider, slug="curves")
    with pytest.raises(NotFound) as missing:
        project_get_for_user(user=outsider, slug="no-such-project")

    assert (forbidden.value.detail, forbidden.value.code, forbidden.value.fields) == (
        missing.value.detail,
        missing.value.code,
        missing.value.fields,
    )


def test_project_get_for_user_denies_a_member_whose_role_lacks_the_action():
    member = MembershipFactory(role=Role.VIEWER, project__slug="curves")

    with pytest.raises(PermissionDenied) as raised:
        project_get_for_user(user=member.user, slug="curves", action="project.update")

    assert raised.value.detail == "Your role does not allow project.update."


def test_projects_for_user_lists_only_their_projects_with_their_role():
    user = UserFactory()
    MembershipFactory(user=user, project__name="Curves", role=Role.OWNER)
    MembershipFactory(user=user, project__name="Boundaries", role=Role.VIEWER)
    MembershipFactory(project__name="Elsewhere")

    projects = projects_for_user(user=user)

    assert [(p.name, p.user_role) for p in projects] == [
        ("Boundaries", "viewer"),
        ("Curves", "owner"),
    ]


def test_projects_for_a_superuser_are_all_projects():
    superuser = UserFactory(is_superuser=True)
    MembershipFactory(user=superuser, project__name="Curves", role=Role.OWNER)
    ProjectFactory(name="Boundaries")

    projects = projects_for_user(user=superuser)

    assert [(p.name, p.user_role) for p in projects] == [("Boundaries", None), ("Curves", "owner")]


def test_project_members_are_ordered_by_username():
    project = ProjectFactory()
    MembershipFactory(project=project, user__username="voss", role=Role.VIEWER)
    MembershipFactory(project=project, user__username="olah", role=Role.OWNER)

    members = project_members(project=project)

    assert [(m.user.username, m.role) for m in members] == [("olah", "owner"), ("voss", "viewer")]


def test_membership_get_of_a_non_member_is_not_found():
    project = ProjectFactory()
    MembershipFactory(user__username="voss")

    with pytest.raises(NotFound) as raised:
        membership_get(project=project, username="voss")

    assert raised.value.detail == "'voss' is not a member of this project."


def test_user_memberships_list_the_users_projects_by_name():
    user = UserFactory()
    MembershipFactory(user=user, project__name="Curves", role=Role.OWNER)
    MembershipFactory(user=user, project__name="Boundaries", role=Role.VIEWER)
    MembershipFactory(project__name="Elsewhere")

    memberships = user_memberships(user=user)

    assert [(m.project.name, m.role) for m in memberships] == [
        ("Boundaries", "viewer"),
        ("Curves", "owner"),
    ]
