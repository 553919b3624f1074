"""Units compared side by side: chosen in the grid, shown in columns (visualizations,
dataset examples, histogram, weights, statistics), a unit that never fired marked there too."""

import re

import pytest

from annotations.models import Role
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import rendered_units, screenshot
from tests.frontend.e2e.test_unit_card_examples import examined_layer

pytestmark = pytest.mark.django_db(transaction=True)


def test_three_units_selected_in_the_grid_are_compared_side_by_side(browse):
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=6, order=5)
    examined_layer(layer, {0: 212, 1: 0, 2: 40, 3: 5, 4: 0, 5: 90})
    rendered_units(layer, [0, 1, 5])
    curves = GroupFactory(project=project, name="Curves", color="#4e79a7")
    AssignmentFactory(project=project, group=curves, unit=layer.units.get(index=5))
    ada = MembershipFactory(project=project, role=Role.VIEWER, user__username="ada").user
    page = browse(ada)
    page.goto("/p/early-vision/grid/inceptionv1/mixed3b/")
    page.wait_for_selector("#grid-page[data-ready=true]")

    page.locator("#unit-0").click()
    page.locator("#unit-1").click(modifiers=["Control"])
    page.locator("#unit-5").click(modifiers=["Control"])
    page.get_by_role("link", name="Compare side by side").click()

    page.wait_for_url(re.compile(r"/p/early-vision/compare/inceptionv1/\?units="))
    page.wait_for_selector("#compare-page[data-ready=true]")
    headers = page.locator("#compare-table thead th[data-unit]").all_inner_texts()
    assert headers == ["mixed3b:0", "mixed3b:1", "mixed3b:5"]
    assert page.locator("tr[data-row=featurevis] td img").count() == 6
    assert page.locator("tr[data-row=examples] td[data-unit='mixed3b:0'] img").count() == 2
    assert page.locator("tr[data-row=distribution] svg.histogram").count() == 3
    group_cells = page.locator("tr[data-row=group] td").all_inner_texts()
    assert group_cells == ["no group", "no group never fired on demo", "Curves"]
    assert page.locator("tr[data-row=examples] td[data-unit='mixed3b:1'] .never-fired").count() == 1
    stats = page.locator("tr[data-row=stats] td").all_inner_texts()
    assert "fired on 212 of 918 images (demo)" in stats[0]
    assert "never fired on demo (0 of 918 images)" in stats[1]
    screenshot(page, "compare")

    page.locator("tr[data-row=featurevis] td[data-unit='mixed3b:5'] button.zoom").first.click()
    page.get_by_role("dialog").wait_for()
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="hidden")
