"""The taxonomy tree: create, rename (through a version conflict), move and merge groups."""

import pytest

from annotations.models import Group, Role
from annotations.services.groups import group_update
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=12)
    curves = GroupFactory(project=project, name="Curves", color="#4e79a7")
    GroupFactory(project=project, name="Circles", color="#f28e2b")
    for index in (1, 2, 3):
        AssignmentFactory(project=project, group=curves, unit=layer.units.get(index=index))
    return project


def test_a_rename_that_lost_a_race_shows_the_change_and_succeeds_on_retry(browse, project):
    owner = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    rival = MembershipFactory(project=project, role=Role.OWNER, user__username="grace").user
    page = browse(owner)
    page.goto("/p/early-vision/taxonomy/")
    page.wait_for_selector("#taxonomy-page[data-ready=true]")
    page.locator("#tree .node", has_text="Curves").click()
    curves = Group.objects.get(name="Curves")
    page.locator("#detail-version", has_text=f"#{curves.pk} · version 1").wait_for()
    page.locator("#unit-total", has_text="3").wait_for()
    group_update(group=curves, actor=rival, expected_version=curves.version, description="Edges")

    page.get_by_label("Name").first.fill("Curve detectors")
    page.get_by_role("button", name="Save").click()
    conflict = page.locator(".alert.conflict")
    conflict.wait_for()
    assert "description" in conflict.locator("tbody").inner_text()
    conflict.get_by_role("button", name="Retry on version 2").click()
    page.locator("#tree .node", has_text="Curve detectors").wait_for()

    curves.refresh_from_db()
    assert (curves.name, curves.description, curves.version) == ("Curve detectors", "Edges", 3)


def test_create_move_and_merge_groups_from_the_tree(browse, project):
    owner = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    page = browse(owner)
    page.goto("/p/early-vision/taxonomy/")
    page.wait_for_selector("#taxonomy-page[data-ready=true]")
    create = page.locator("#create-form")
    create.get_by_label("Name").fill("Early curves")
    create.get_by_label("Parent").select_option(label="Curves")
    create.get_by_role("button", name="Create group").click()
    page.locator("#tree ul .node", has_text="Early curves").wait_for()

    page.locator("#move-form").get_by_label("Parent").select_option(label="Circles")
    page.get_by_role("button", name="Move").click()
    circles = Group.objects.get(name="Circles")
    page.locator(f"#group-{circles.pk} ul .node", has_text="Early curves").wait_for()
    screenshot(page, "tree")

    page.locator("#tree .node", has_text="Circles").first.click()
    page.locator("#detail-version", has_text=f"#{circles.pk} ").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_label("Merge into").select_option(label="Curves")
    page.get_by_role("button", name="Merge").click()
    page.locator("#taxonomy-summary", has_text="2 groups").wait_for()

    assert sorted(Group.objects.values_list("name", flat=True)) == ["Curves", "Early curves"]
