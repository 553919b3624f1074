"""The project settings page: owners get the forms, other members read the settings."""

import pytest

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import NetworkFactory

pytestmark = pytest.mark.django_db

SETTINGS = "/p/early-vision/settings/"


@pytest.fixture
def project():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    ProjectNetworkFactory(project=project, network__name="inceptionv1")
    return project


def test_an_owner_gets_the_forms_and_the_networks_they_may_add(client, project):
    owner = MembershipFactory(project=project, role=Role.OWNER)
    elsewhere = MembershipFactory(user=owner.user, role=Role.VIEWER).project
    ProjectNetworkFactory(project=elsewhere, network__name="mobilenet-v2")
    ProjectNetworkFactory(project=elsewhere, network__name="broken", network__status="failed")
    ProjectNetworkFactory(network__name="hidden-net")
    client.force_login(owner.user)

    page = client.get(SETTINGS).content.decode()

    assert 'data-manage="true"' in page
    for form in ("policy-form", "member-form", "network-form"):
        assert f'id="{form}"' in page
    assert '<option value="mobilenet-v2">' in page
    for absent in ("inceptionv1", "broken", "hidden-net"):
        assert f'<option value="{absent}">' not in page


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER])
def test_other_members_read_the_settings_without_forms(client, project, role):
    member = MembershipFactory(project=project, role=role)
    NetworkFactory(name="own-net", created_by=member.user)
    client.force_login(member.user)

    page = client.get(SETTINGS).content.decode()

    assert 'data-manage="false"' in page
    assert '<fieldset id="policy-fields" class="plain" disabled>' in page
    assert 'id="member-form"' not in page
    assert 'id="network-form"' not in page


def test_a_non_member_gets_404(client, project):
    client.force_login(MembershipFactory(role=Role.OWNER).user)

    assert client.get(SETTINGS).status_code == 404


def test_every_project_page_links_to_the_settings(client, project):
    client.force_login(MembershipFactory(project=project, role=Role.VIEWER).user)

    page = client.get("/p/early-vision/taxonomy/").content.decode()

    assert f'href="{SETTINGS}">Settings</a>' in page


def test_an_owner_gets_the_webhooks_and_their_own_email_choice(client, project):
    owner = MembershipFactory(project=project, role=Role.OWNER)
    client.force_login(owner.user)

    page = client.get(SETTINGS).content.decode()

    assert 'data-webhooks="true"' in page
    assert 'id="webhook-form"' in page
    assert 'id="email-form"' in page


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER])
def test_other_members_get_their_email_choice_but_no_webhooks(client, project, role):
    client.force_login(MembershipFactory(project=project, role=role).user)

    page = client.get(SETTINGS).content.decode()

    assert 'data-webhooks="false"' in page
    assert 'id="webhook-form"' not in page
    assert 'id="webhook-rows"' not in page
    assert 'id="email-form"' in page
