"""The grid's filters, picture kind and selection live in its URL: a link shows them, and Back
from a unit's page (or from a filter change) restores them."""

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
from tests.frontend.e2e.artifacts import rendered_layer

pytestmark = pytest.mark.django_db(transaction=True)

GRID = "/p/early-vision/grid/inceptionv1/mixed3b/"
INDICES = "(tiles) => tiles.map((tile) => Number(tile.dataset.index))"


def _selected(page):
    return page.locator("#grid .tile[aria-selected=true]").evaluate_all(INDICES)


def _shown(page):
    return page.locator("#grid .tile:not([hidden])").evaluate_all(INDICES)


@pytest.fixture
def page(browse):
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=16)
    rendered_layer(layer)
    curves = GroupFactory(project=project, name="Curves")
    for index in (2, 3, 4, 9):
        AssignmentFactory(project=project, group=curves, unit=layer.units.get(index=index))
    viewer = MembershipFactory(project=project, role=Role.VIEWER).user
    return browse(viewer)


def _ready(page):
    page.wait_for_selector("#grid-page[data-ready=true]")


def test_a_link_opens_the_grid_filtered_with_its_selection(page):
    page.goto(f"{GRID}?status=labelled&units=2-4,7")
    _ready(page)

    assert page.locator("#filter-status").input_value() == "labelled"
    assert _shown(page) == [2, 3, 4, 9]
    # Unit 7 is hidden by the filter, so it is not selected.
    assert _selected(page) == [2, 3, 4]
    assert page.locator("#selection-count").inner_text() == "3"


def test_choices_go_into_the_url_and_back_restores_them_after_a_unit_page(page):
    page.goto(GRID)
    _ready(page)
    page.locator("#filter-status").select_option("labelled")
    page.wait_for_url("**?status=labelled")
    page.locator("#unit-3").click()
    page.locator("#unit-9").click(modifiers=["Control"])
    page.wait_for_url("**units=3,9")

    page.keyboard.press("Enter")  # opens the focused unit, 9
    page.wait_for_url("**/units/inceptionv1/mixed3b:9/")
    page.go_back()
    _ready(page)

    assert page.locator("#filter-status").input_value() == "labelled"
    assert _selected(page) == [3, 9]


def test_back_undoes_a_filter_change(page):
    page.goto(GRID)
    _ready(page)
    page.locator("#filter-status").select_option("unlabelled")
    page.wait_for_url("**?status=unlabelled")
    page.locator("#filter-status").select_option("labelled")
    page.wait_for_url("**?status=labelled")

    page.go_back()
    page.wait_for_url("**?status=unlabelled")

    page.wait_for_function("() => document.querySelector('#filter-status').value === 'unlabelled'")
    assert 2 not in _shown(page)
    assert 0 in _shown(page)
