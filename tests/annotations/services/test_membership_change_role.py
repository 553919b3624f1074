import pytest

from annotations.models import Membership, Role
from annotations.services.memberships import membership_change_role
from server.errors import InvalidTransition, PermissionDenied
from tests.factories.annotations import MembershipFactory

pytestmark = pytest.mark.django_db


def _roles(project):
    return sorted(Membership.objects.filter(project=project).values_list("user__username", "role"))


def test_owner_changes_a_members_role():
    owner = MembershipFactory(role=Role.OWNER, user__username="olah")
    member = MembershipFactory(project=owner.project, user__username="voss", role=Role.VIEWER)

    changed = membership_change_role(membership=member, role=Role.REVIEWER, actor=owner.user)

    assert changed.role == Role.REVIEWER
    assert _roles(owner.project) == [("olah", "owner"), ("voss", "reviewer")]


def test_the_last_owner_cannot_step_down():
    owner = MembershipFactory(role=Role.OWNER, user__username="olah")

    with pytest.raises(InvalidTransition) as raised:
        membership_change_role(membership=owner, role=Role.VIEWER, actor=owner.user)

    assert (raised.value.status, raised.value.code, raised.value.detail) == (
        409,
        "last_owner",
        "Cannot change the role of the last owner; make another member an owner first.",
    )
    assert _roles(owner.project) == [("olah", "owner")]


def test_an_owner_steps_down_when_another_owner_remains():
    owner = MembershipFactory(role=Role.OWNER, user__username="olah")
    MembershipFactory(project=owner.project, user__username="carter", role=Role.OWNER)

    membership_change_role(membership=owner, role=Role.REVIEWER, actor=owner.user)

    assert _roles(owner.project) == [("carter", "owner"), ("olah", "reviewer")]


def test_the_last_owner_may_be_given_the_owner_role_again():
    owner = MembershipFactory(role=Role.OWNER, user__username="olah")

    membership_change_role(membership=owner, role=Role.OWNER, actor=owner.user)

    assert _roles(owner.project) == [("olah", "owner")]


def test_reviewer_may_not_change_roles():
    reviewer = MembershipFactory(role=Role.REVIEWER, user__username="schubert")

    with pytest.raises(PermissionDenied):
        membership_change_role(membership=reviewer, role=Role.OWNER, actor=reviewer.user)

    assert _roles(reviewer.project) == [("schubert", "reviewer")]


def test_the_system_is_held_to_the_last_owner_rule_too():
    owner = MembershipFactory(role=Role.OWNER, user__username="olah")

    with pytest.raises(InvalidTransition):
        membership_change_role(membership=owner, role=Role.VIEWER, actor=None)

    assert _roles(owner.project) == [("olah", "owner")]
