"""Project settings through the page: the review policy, members and roles, and a network
already registered for another project."""

import pytest

from annotations.models import Membership, Project, ProjectNetwork, Role
from tests.factories.annotations import (
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.frontend.e2e.artifacts import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    ProjectNetworkFactory(project=project, network__name="inceptionv1")
    return project


def test_an_owner_changes_the_policy_members_and_networks(browse, project):
    owner = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="grace")
    MembershipFactory(project=project, role=Role.VIEWER, user__username="linus")
    UserFactory(username="barbara")
    other = MembershipFactory(user=owner, role=Role.OWNER, project__slug="mobile").project
    ProjectNetworkFactory(project=other, network__name="mobilenet-v2")
    page = browse(owner)
    page.goto("/p/early-vision/settings/")
    page.wait_for_selector("#settings-page[data-ready=true]")

    page.get_by_label("Units change group only through reviewed hypotheses").check()
    page.get_by_label("Approvals that accept a hypothesis").fill("2")
    page.get_by_role("button", name="Save policy").click()
    page.locator("#policy-version", has_text="Version 2.").wait_for()

    page.get_by_label("Role of grace").select_option("reviewer")
    page.locator("#status", has_text="grace is now reviewer.").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr[data-member=linus]").get_by_role("button", name="Remove").click()
    page.locator("tr[data-member=linus]").wait_for(state="detached")
    page.get_by_label("Username").fill("barbara")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Add member").click()
    page.locator("tr[data-member=barbara]").wait_for()

    page.get_by_label("Add a registered network").fill("mobilenet-v2")
    page.get_by_role("button", name="Add network").click()
    page.locator("tr[data-network=mobilenet-v2]").wait_for()
    screenshot(page, "settings")

    project = Project.objects.get(pk=project.pk)
    assert (project.assignments_need_review, project.required_approvals) == (True, 2)
    assert sorted(
        Membership.objects.filter(project=project).values_list("user__username", "role")
    ) == [
        ("ada", "owner"),
        ("barbara", "viewer"),
        ("grace", "reviewer"),
    ]
    assert sorted(
        ProjectNetwork.objects.filter(project=project).values_list("network__name", flat=True)
    ) == [
        "inceptionv1",
        "mobilenet-v2",
    ]


def test_the_last_owner_stepping_down_is_refused_and_shown(browse, project):
    owner = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    page = browse(owner)
    page.goto("/p/early-vision/settings/")
    page.wait_for_selector("#settings-page[data-ready=true]")

    page.get_by_label("Role of ada").select_option("viewer")

    page.locator(".alert[data-code=last_owner]").wait_for()
    page.locator("select[data-member=ada] option[value=owner]:checked").wait_for(state="attached")
    assert Membership.objects.get(user=owner).role == Role.OWNER


def test_a_viewer_reads_the_settings_without_controls(browse, project):
    Project.objects.filter(pk=project.pk).update(required_approvals=3)
    viewer = MembershipFactory(project=project, role=Role.VIEWER, user__username="linus").user
    page = browse(viewer)
    page.goto("/p/early-vision/settings/")
    page.wait_for_selector("#settings-page[data-ready=true]")

    assert page.get_by_label("Approvals that accept a hypothesis").input_value() == "3"
    assert page.get_by_label("Approvals that accept a hypothesis").is_disabled()
    assert page.locator("tr[data-member=linus]").inner_text().split("\t")[:2] == ["linus", "viewer"]
    assert page.locator("#member-form, #network-form, select[data-member]").count() == 0
    assert page.locator("tr[data-network=inceptionv1]").count() == 1
