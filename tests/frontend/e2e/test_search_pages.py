"""The search box through the pages: a word of a unit's note found on the project page leads
to the unit's card; a circuit's name found on the grid leads to the circuit."""

import pytest

from annotations.models import Role
from tests.factories.annotations import (
    AssignmentFactory,
    CircuitFactory,
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import screenshot
from workers.models import Network

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", order=4, channels=16)
    group = GroupFactory(project=project, name="Curves")
    AssignmentFactory(
        group=group, unit=layer.units.get(index=11), note="Fires on the rim of a teacup."
    )
    AssignmentFactory(group=group, unit=layer.units.get(index=12), note="Fires on fur.")
    return project


@pytest.fixture
def member(project):
    return MembershipFactory(project=project, role=Role.VIEWER, user__username="ada").user


def test_a_word_of_a_unit_note_finds_the_unit_and_leads_to_its_card(browse, project, member):
    page = browse(member)
    page.goto("/p/early-vision/")

    page.get_by_role("searchbox", name="Search").fill("teacup")
    page.get_by_role("button", name="Search", exact=True).click()

    results = page.locator("#search-results")
    results.locator("#search-summary", has_text="1 found").wait_for()
    hit = results.locator("[data-kind=units] li")
    assert hit.count() == 1
    assert hit.inner_text() == "inceptionv1 / mixed3b:11\nCurves: Fires on the rim of a teacup."
    screenshot(page, "project-search")
    hit.get_by_role("link").click()
    page.wait_for_url("**/p/early-vision/units/inceptionv1/mixed3b*11/")
    assert page.locator("#unit-address").inner_text() == "mixed3b:11"


def test_a_circuit_found_from_the_grid_leads_to_its_page(browse, project, member):
    network = Network.objects.get(name="inceptionv1")
    circuit = CircuitFactory(project=project, network=network, name="Teacup rims")
    page = browse(member)
    page.goto("/p/early-vision/grid/inceptionv1/mixed3b/")
    page.wait_for_selector("#grid-page[data-ready=true]")

    page.get_by_role("searchbox", name="Search").fill("rims")
    page.get_by_role("searchbox", name="Search").press("Enter")

    link = page.locator("#search-results [data-kind=circuits]").get_by_role(
        "link", name="Teacup rims"
    )
    link.click()
    page.wait_for_url(f"**/p/early-vision/circuits/{circuit.pk}/")
    page.wait_for_selector("#circuit-page[data-ready=true]")
    assert page.locator("#circuit-name").inner_text() == "Teacup rims"


def test_a_search_that_finds_nothing_says_so(browse, project, member):
    page = browse(member)
    page.goto("/p/early-vision/")

    page.get_by_role("searchbox", name="Search").fill("zebra")
    page.get_by_role("button", name="Search", exact=True).click()

    summary = page.locator("#search-results #search-summary")
    summary.wait_for()
    assert summary.inner_text() == "Nothing found for “zebra”."
    assert page.locator("#search-results a").count() == 0
