"""A hypothesis proposing a new group names it and chooses its parent from the project's
groups, on the grid when proposing and on the hypothesis page when revising."""

import re

import pytest

from annotations.models import Group, Hypothesis, Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import rendered_layer

pytestmark = pytest.mark.django_db(transaction=True)

GRID = "/p/early-vision/grid/inceptionv1/mixed3b/"


@pytest.fixture
def team():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    rendered_layer(LayerFactory(network=network, name="mixed3b", channels=16, order=5))
    curves = Group.objects.create(project=project, name="Curves")
    edges = Group.objects.create(project=project, name="Edges")
    thin = Group.objects.create(project=project, name="Thin edges", parent=edges)
    ada = MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="ada").user
    return ada, {"curves": curves, "edges": edges, "thin": thin}


def test_a_new_group_is_named_and_placed_when_proposing_and_revising(browse, team):
    ada, groups = team
    page = browse(ada)
    page.goto(GRID)
    page.wait_for_selector("#grid-page[data-ready=true]")
    page.locator("#unit-3").click()
    page.locator("#unit-4").click(modifiers=["Shift"])
    page.get_by_label("Title").fill("Thin curves")
    parent = page.get_by_label("Inside")
    assert not parent.is_visible()
    page.get_by_label("Proposed group").select_option("new")
    page.get_by_label("New group name").fill("Small curves")
    page.locator("#hypothesis-new-group-parent option", has_text="Thin edges").wait_for(
        state="attached"
    )
    options = page.locator("#hypothesis-new-group-parent option").all_inner_texts()
    assert [text.replace("\u00a0", "·") for text in options] == [
        "top level",
        "Curves",
        "Edges",
        "··Thin edges",
    ]
    assert parent.input_value() == ""
    parent.select_option(str(groups["thin"].pk))
    page.get_by_role("button", name="Open hypothesis").click()
    page.wait_for_url(re.compile(r"/hypotheses/\d+/$"))
    page.wait_for_selector("#hypothesis-page[data-ready=true]")

    hypothesis = Hypothesis.objects.get()
    # No colour chosen: the group takes an unused one on acceptance.
    assert hypothesis.new_group == {
        "name": "Small curves",
        "parent": groups["thin"].pk,
        "description": "",
        "color": None,
    }
    assert "inside Thin edges" in page.locator("#hypothesis-proposal").inner_text()
    assert page.get_by_label("Proposed group").input_value() == "new"
    assert page.get_by_label("New group name").input_value() == "Small curves"
    assert page.get_by_label("Inside").input_value() == str(groups["thin"].pk)

    page.get_by_label("New group name").fill("Tiny curves")
    page.get_by_label("Inside").select_option(str(groups["curves"].pk))
    page.get_by_role("button", name="Save revision").click()
    page.locator("#hypothesis-meta", has_text="version 2").wait_for()
    page.locator("#hypothesis-proposal", has_text="inside Curves").wait_for()

    hypothesis.refresh_from_db()
    assert (hypothesis.proposed_group, hypothesis.new_group) == (
        None,
        {"name": "Tiny curves", "parent": groups["curves"].pk, "description": "", "color": None},
    )

    page.get_by_label("Proposed group").select_option(str(groups["edges"].pk))
    assert not page.get_by_label("Inside").is_visible()
    page.get_by_role("button", name="Save revision").click()
    page.locator("#hypothesis-meta", has_text="version 3").wait_for()

    hypothesis.refresh_from_db()
    assert (hypothesis.proposed_group, hypothesis.new_group) == (groups["edges"], None)
