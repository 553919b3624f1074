import pytest

from annotations.models import Membership, Role
from annotations.services.memberships import membership_remove
from server.errors import InvalidTransition, PermissionDenied
from tests.factories.annotations import MembershipFactory

pytestmark = pytest.mark.django_db


def _roles(project):
    return sorted(Membership.objects.filter(project=project).values_list("user__username", "role"))


def test_owner_removes_a_member():
    owner = MembershipFactory(role=Role.OWNER, user__username="olah")
    member = MembershipFactory(project=owner.project, user__username="voss", role=Role.VIEWER)

    membership_remove(membership=member, actor=owner.user)

    assert _roles(owner.project) == [("olah", "owner")]


def test_the_last_owner_cannot_be_removed():
    owner = MembershipFactory(role=Role.OWNER, user__username="olah")

    with pytest.raises(InvalidTransition) as raised:
        membership_remove(membership=owner, actor=owner.user)

    assert (raised.value.code, raised.value.detail) == (
        "last_owner",
        "Cannot remove the last owner; make another member an owner first.",
    )
    assert _roles(owner.project) == [("olah", "owner")]


def test_an_owner_leaves_when_another_owner_remains():
    owner = MembershipFactory(role=Role.OWNER, user__username="olah")
    MembershipFactory(project=owner.project, user__username="carter", role=Role.OWNER)

    membership_remove(membership=owner, actor=owner.user)

    assert _roles(owner.project) == [("carter", "owner")]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER])
def test_non_owner_may_not_remove_members(role):
    owner = MembershipFactory(role=Role.OWNER, user__username="olah")
    member = MembershipFactory(project=owner.project, user__username="voss", role=role)

    with pytest.raises(PermissionDenied):
        membership_remove(membership=owner, actor=member.user)

    assert _roles(owner.project) == [("olah", "owner"), ("voss", role)]
