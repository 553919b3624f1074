"""The taxonomy page at a glance: automatic colours, parents' roll-up counts, thumbnails of a
group's units from the layer's sprite sheet."""

import pytest

from annotations.colors import PALETTE
from annotations.models import Group, Role
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import rendered_layer, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    rendered = LayerFactory(network=network, name="mixed3b", channels=12, order=1)
    unrendered = LayerFactory(network=network, name="mixed4a", channels=4, order=2)
    rendered_layer(rendered)
    early = GroupFactory(project=project, name="Early vision", color=PALETTE[0])
    curves = GroupFactory(project=project, name="Curves", parent=early, color=PALETTE[1])
    for index in (1, 2, 3):
        AssignmentFactory(project=project, group=curves, unit=rendered.units.get(index=index))
    AssignmentFactory(project=project, group=curves, unit=unrendered.units.get(index=0))
    AssignmentFactory(project=project, group=early, unit=rendered.units.get(index=7))
    return project


@pytest.fixture
def page(browse, project):
    owner = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    page = browse(owner)
    page.goto("/p/early-vision/taxonomy/")
    page.wait_for_selector("#taxonomy-page[data-ready=true]")
    return page


def test_a_parent_shows_its_units_with_its_subgroups(page):
    early = page.locator("#tree > li > .node", has_text="Early vision")

    assert early.locator(".num").inner_text() == "5 (1 own)"
    assert page.locator("#tree ul .node", has_text="Curves").locator(".num").inner_text() == "4"


def test_a_groups_units_show_thumbnails_cut_from_the_layer_sprite(page):
    page.locator("#tree .node", has_text="Curves").click()
    page.wait_for_selector("#group-units[data-thumbnails=ready]")
    screenshot(page, "taxonomy-thumbnails")

    shown = page.locator("#group-units li").evaluate_all(
        """items => items.map(item => [item.dataset.unit,
            !item.querySelector('.group-thumb').classList.contains('missing'),
            item.querySelector('.group-thumb').style.backgroundImage.includes('/artifacts/')])"""
    )
    assert shown == [
        ["inceptionv1/mixed3b:1", True, True],
        ["inceptionv1/mixed3b:2", True, True],
        ["inceptionv1/mixed3b:3", True, True],
        ["inceptionv1/mixed4a:0", False, False],
    ]


def test_unit_links_read_like_the_papers(page):
    page.locator("#tree .node", has_text="Curves").click()
    page.wait_for_selector("#group-units[data-thumbnails=ready]")

    hrefs = page.locator("#group-units a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert hrefs[0] == "/p/early-vision/units/inceptionv1/mixed3b:1/"
    page.locator("#group-units a").first.click()
    page.wait_for_url("**/units/inceptionv1/mixed3b:1/")


def test_new_groups_get_colours_no_group_has(page):
    create = page.locator("#create-form")
    for name in ("Lines", "Circles"):
        create.get_by_label("Name").fill(name)
        create.get_by_role("button", name="Create group").click()
        page.locator("#tree .node", has_text=name).wait_for()

    assert dict(Group.objects.values_list("name", "color")) == {
        "Early vision": PALETTE[0],
        "Curves": PALETTE[1],
        "Lines": PALETTE[2],
        "Circles": PALETTE[3],
    }


def test_a_colour_chosen_by_hand_is_kept(page):
    create = page.locator("#create-form")
    create.get_by_label("Name").fill("Lines")
    create.get_by_label("Automatic colour").uncheck()
    create.get_by_label("Color").fill("#123456")
    create.get_by_role("button", name="Create group").click()
    page.locator("#tree .node", has_text="Lines").wait_for()

    assert Group.objects.get(name="Lines").color == "#123456"
