import pytest

from annotations.models import Membership, Role
from annotations.services.memberships import membership_set
from tests.factories.annotations import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_adds_a_user_who_is_not_a_member():
    project = ProjectFactory()
    user = UserFactory(username="voss")

    membership_set(project=project, user=user, role=Role.REVIEWER, actor=None)

    assert list(Membership.objects.values_list("user__username", "role")) == [("voss", "reviewer")]


def test_changes_the_role_of_a_member():
    member = MembershipFactory(role=Role.VIEWER, user__username="voss")

    membership_set(project=member.project, user=member.user, role=Role.ANNOTATOR, actor=None)

    assert list(Membership.objects.values_list("user__username", "role")) == [("voss", "annotator")]
