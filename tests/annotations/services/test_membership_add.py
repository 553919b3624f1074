import pytest

from annotations.models import Membership, Role
from annotations.services.memberships import membership_add
from server.errors import Conflict, PermissionDenied, ValidationFailed
from tests.factories.annotations import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _roles(project):
    return sorted(Membership.objects.filter(project=project).values_list("user__username", "role"))


def test_owner_adds_a_member_with_a_role():
    owner = MembershipFactory(role=Role.OWNER, user__username="olah")
    newcomer = UserFactory(username="cammarata")

    membership = membership_add(
        project=owner.project, user=newcomer, role=Role.ANNOTATOR, actor=owner.user
    )

    assert (membership.project, membership.user, membership.role) == (
        owner.project,
        newcomer,
        Role.ANNOTATOR,
    )
    assert _roles(owner.project) == [("cammarata", "annotator"), ("olah", "owner")]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER])
def test_non_owner_may_not_add_members(role):
    member = MembershipFactory(role=role, user__username="member")

    with pytest.raises(PermissionDenied) as raised:
        membership_add(
            project=member.project, user=UserFactory(), role=Role.VIEWER, actor=member.user
        )

    assert raised.value.detail == "Your role does not allow membership.manage."
    assert _roles(member.project) == [("member", role)]


def test_adding_a_member_twice_is_a_conflict_and_keeps_their_role():
    owner = MembershipFactory(role=Role.OWNER, user__username="olah")
    schubert = MembershipFactory(
        project=owner.project, user__username="schubert", role=Role.VIEWER
    ).user

    with pytest.raises(Conflict) as raised:
        membership_add(project=owner.project, user=schubert, role=Role.OWNER, actor=owner.user)

    assert (raised.value.code, raised.value.detail) == (
        "already_member",
        "'schubert' is already a member of this project.",
    )
    assert _roles(owner.project) == [("olah", "owner"), ("schubert", "viewer")]


def test_unknown_role_fails_validation_and_adds_nobody():
    owner = MembershipFactory(role=Role.OWNER, user__username="olah")

    with pytest.raises(ValidationFailed) as raised:
        membership_add(project=owner.project, user=UserFactory(), role="boss", actor=owner.user)

    assert raised.value.fields == {"role": ["Choose one of: owner, reviewer, annotator, viewer."]}
    assert _roles(owner.project) == [("olah", "owner")]


def test_the_system_adds_members_to_any_project():
    project = ProjectFactory()

    membership_add(project=project, user=UserFactory(username="voss"), role=Role.OWNER, actor=None)

    assert _roles(project) == [("voss", "owner")]
