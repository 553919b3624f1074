import pytest

from annotations.models import ProjectNetwork, Role
from annotations.services.projects import project_network_link
from server.errors import PermissionDenied
from tests.factories.annotations import MembershipFactory, ProjectFactory
from tests.factories.workers import NetworkFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.OWNER, Role.REVIEWER])
def test_owner_and_reviewer_link_a_network(role):
    member = MembershipFactory(role=role)
    network = NetworkFactory()

    link = project_network_link(project=member.project, network=network, actor=member.user)

    assert list(ProjectNetwork.objects.values_list("pk", "project", "network", "added_by")) == [
        (link.pk, member.project.pk, network.pk, member.user.pk)
    ]


def test_linking_again_returns_the_same_link_and_adds_no_row():
    member = MembershipFactory(role=Role.OWNER)
    network = NetworkFactory()
    first = project_network_link(project=member.project, network=network, actor=member.user)

    again = project_network_link(project=member.project, network=network, actor=member.user)

    assert again.pk == first.pk
    assert ProjectNetwork.objects.count() == 1


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.VIEWER])
def test_annotator_and_viewer_may_not_link_a_network(role):
    member = MembershipFactory(role=role)

    with pytest.raises(PermissionDenied):
        project_network_link(project=member.project, network=NetworkFactory(), actor=member.user)

    assert not ProjectNetwork.objects.exists()


def test_the_system_links_without_a_user():
    project = ProjectFactory()
    network = NetworkFactory()

    link = project_network_link(project=project, network=network, actor=None)

    assert (link.project, link.network, link.added_by) == (project, network, None)
