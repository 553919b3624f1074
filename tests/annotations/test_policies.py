import pytest
from django.contrib.auth.models import AnonymousUser

from annotations.models import Role
from annotations.policies import can, networks_visible_to
from tests.factories.annotations import (
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import JobFactory, NetworkFactory
from workers import access

pytestmark = pytest.mark.django_db

PROJECT_ACTIONS = [
    "project.view",
    "project.update",
    "membership.manage",
    "network.view",
    "network.register",
    "job.view",
    "job.create",
    "job.cancel",
]

ALLOWED = {
    Role.OWNER: set(PROJECT_ACTIONS),
    Role.REVIEWER: {
        "project.view",
        "network.view",
        "network.register",
        "job.view",
        "job.create",
        "job.cancel",
    },
    Role.ANNOTATOR: {"project.view", "network.view", "job.view", "job.create"},
    Role.VIEWER: {"project.view", "network.view", "job.view"},
}


def _allowed_actions(user, obj):
    return {action for action in PROJECT_ACTIONS if can(user, action, obj)}


@pytest.mark.parametrize("role", list(Role))
def test_role_allows_exactly_its_actions_on_the_project(role):
    membership = MembershipFactory(role=role)

    assert _allowed_actions(membership.user, membership.project) == ALLOWED[role]


@pytest.mark.parametrize("role", list(Role))
def test_role_in_a_linked_project_applies_to_the_network(role):
    link = ProjectNetworkFactory()
    membership = MembershipFactory(project=link.project, role=role)

    assert _allowed_actions(membership.user, link.network) == ALLOWED[role]


def test_non_member_may_do_nothing_on_the_project():
    project = ProjectFactory()
    MembershipFactory(project=project, role=Role.OWNER)

    assert _allowed_actions(UserFactory(), project) == set()


def test_anonymous_user_may_do_nothing():
    link = ProjectNetworkFactory()

    assert _allowed_actions(AnonymousUser(), link.project) == set()
    assert _allowed_actions(AnonymousUser(), link.network) == set()
    assert can(AnonymousUser(), "project.create", None) is False


def test_inactive_owner_may_do_nothing():
    membership = MembershipFactory(role=Role.OWNER, user__is_active=False)

    assert _allowed_actions(membership.user, membership.project) == set()
    assert can(membership.user, "project.create", None) is False


def test_superuser_may_do_everything_without_being_a_member():
    link = ProjectNetworkFactory()
    superuser = UserFactory(is_superuser=True)

    assert _allowed_actions(superuser, link.project) == set(PROJECT_ACTIONS)
    assert _allowed_actions(superuser, link.network) == set(PROJECT_ACTIONS)
    assert can(superuser, "user.create", None) is True


def test_any_active_user_may_create_a_project_but_not_a_user():
    user = UserFactory()

    assert can(user, "project.create", None) is True
    assert can(user, "user.create", None) is False


def test_membership_of_a_project_not_studying_the_network_grants_nothing_on_it():
    membership = MembershipFactory(role=Role.OWNER)
    network = NetworkFactory()

    assert _allowed_actions(membership.user, network) == set()


def test_best_role_over_the_linked_projects_applies_to_the_network():
    network = NetworkFactory()
    user = UserFactory()
    viewing = ProjectNetworkFactory(network=network)
    reviewing = ProjectNetworkFactory(network=network)
    MembershipFactory(project=viewing.project, user=user, role=Role.VIEWER)
    MembershipFactory(project=reviewing.project, user=user, role=Role.REVIEWER)

    assert _allowed_actions(user, network) == ALLOWED[Role.REVIEWER]


@pytest.mark.parametrize("role", list(Role))
def test_role_on_a_job_follows_the_role_on_its_network(role):
    job = JobFactory()
    link = ProjectNetworkFactory(network=job.network)
    membership = MembershipFactory(project=link.project, role=role)

    assert _allowed_actions(membership.user, job) == ALLOWED[role]


def test_annotator_may_cancel_a_job_they_created():
    link = ProjectNetworkFactory()
    annotator = MembershipFactory(project=link.project, role=Role.ANNOTATOR).user
    job = JobFactory(layer__network=link.network, created_by=annotator)

    assert can(annotator, "job.cancel", job) is True


def test_annotator_may_not_cancel_a_job_someone_else_created():
    job = JobFactory(created_by=UserFactory())
    link = ProjectNetworkFactory(network=job.network)
    annotator = MembershipFactory(project=link.project, role=Role.ANNOTATOR).user

    assert can(annotator, "job.cancel", job) is False


def test_viewer_may_not_cancel_a_job_they_created():
    link = ProjectNetworkFactory()
    viewer = MembershipFactory(project=link.project, role=Role.VIEWER).user
    job = JobFactory(layer__network=link.network, created_by=viewer)

    assert can(viewer, "job.cancel", job) is False


def test_unknown_action_is_a_programming_error():
    membership = MembershipFactory(role=Role.OWNER)

    with pytest.raises(ValueError, match="unknown action 'project.delete'"):
        can(membership.user, "project.delete", membership.project)


def test_networks_visible_to_a_member_are_those_of_their_projects_once_each():
    user = UserFactory()
    shared = NetworkFactory(name="shared")
    own = ProjectNetworkFactory(network__name="own")
    second = ProjectNetworkFactory(network=shared)
    MembershipFactory(project=own.project, user=user)
    MembershipFactory(project=second.project, user=user)
    ProjectNetworkFactory(project=own.project, network=shared)
    ProjectNetworkFactory(network__name="elsewhere")

    assert list(networks_visible_to(user).order_by("name").values_list("name", flat=True)) == [
        "own",
        "shared",
    ]


def test_networks_visible_to_a_superuser_are_all_networks():
    NetworkFactory(name="unlinked")
    ProjectNetworkFactory(network__name="linked")

    visible = networks_visible_to(UserFactory(is_superuser=True))

    assert sorted(visible.values_list("name", flat=True)) == ["linked", "unlinked"]


def test_networks_visible_to_an_anonymous_user_are_none():
    ProjectNetworkFactory()

    assert list(networks_visible_to(AnonymousUser())) == []


def test_workers_access_protocol_answers_with_this_policy():
    link = ProjectNetworkFactory()
    viewer = MembershipFactory(project=link.project, role=Role.VIEWER).user

    assert list(access.networks_visible_to(viewer)) == [link.network]
    assert access.can(viewer, "network.view", link.network) is True
    assert access.can(viewer, "job.create", link.network) is False
