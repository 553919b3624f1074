"""Two researchers in two browsers: one proposes a hypothesis from the grid, the other asks
for changes with an @mention, the first revises, the second approves, the grid shows it."""

import re

import pytest

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import rendered_layer, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

GRID = "/p/early-vision/grid/inceptionv1/mixed3b/"


@pytest.fixture
def team():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    rendered_layer(LayerFactory(network=network, name="mixed3b", channels=96, order=5))
    ada = MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="ada").user
    grace = MembershipFactory(project=project, role=Role.REVIEWER, user__username="grace").user
    return ada, grace


def drag(page, source, target):
    start, end = page.locator(source).bounding_box(), page.locator(target).bounding_box()
    page.mouse.move(start["x"] + 5, start["y"] + 5)
    page.mouse.down()
    page.mouse.move(end["x"] + 10, end["y"] + 10, steps=4)
    page.mouse.up()


def test_propose_request_changes_revise_approve_and_see_the_new_group(browse, team):
    ada_user, grace_user = team
    ada = browse(ada_user)
    ada.goto(GRID)
    ada.wait_for_selector("#grid-page[data-ready=true]")
    drag(ada, "#unit-20", "#unit-21")
    assert ada.locator("#selection-count").inner_text() == "2"
    ada.locator("#unit-3").click()
    ada.locator("#unit-5").click(modifiers=["Shift"])
    assert ada.locator("#selection-list").inner_text() == "mixed3b: 3, 4, 5"
    ada.get_by_label("Title").fill("Curve detectors in mixed3b")
    ada.get_by_label("Claim").fill("Units 3 to 5 respond to **curves** of one orientation.")
    ada.get_by_label("Proposed group").select_option("new")
    ada.get_by_label("New group name").fill("Curves")
    ada.get_by_role("button", name="Open hypothesis").click()
    ada.wait_for_url(re.compile(r"/hypotheses/\d+/$"))
    hypothesis_url = ada.url

    grace = browse(grace_user)
    grace.goto("/p/early-vision/reviews/")
    grace.locator("#queue-list a", has_text="Curve detectors in mixed3b").click()
    grace.wait_for_selector("#hypothesis-page[data-ready=true]")
    grace.get_by_label("Request changes").check()
    grace.get_by_label("Comment", exact=True).fill("Unit 5 looks like a circle detector; drop it.")
    grace.get_by_role("button", name="Submit review").click()
    grace.locator("#review-list [data-verdict=request_changes]").wait_for()
    grace.get_by_label("New comment").fill("@ada compare unit 5 with the circle units of mixed3a.")
    grace.get_by_role("button", name="Post comment").click()
    grace.locator(".comment", has_text="compare unit 5").wait_for()
    grace.locator("#unit-rows[data-pictures=true]").wait_for()
    screenshot(grace, "review")

    ada.goto("/p/early-vision/")
    mention = ada.locator("#notification-list .mention a")
    mention.wait_for()
    assert "grace" in mention.inner_text()
    assert ada.locator("#notification-list .review").count() == 1
    screenshot(ada, "project")
    mention.click()
    ada.wait_for_selector("#hypothesis-page[data-ready=true]")
    assert ada.url.startswith(hypothesis_url)
    ada.locator("#unread", has_text="1 unread").wait_for()
    ada.get_by_label("Units (layer:index, comma separated)").fill("mixed3b:3, mixed3b:4")
    ada.get_by_role("button", name="Save revision").click()
    ada.locator("#hypothesis-meta", has_text="version 2").wait_for()

    grace.get_by_label("Approve").check()
    grace.get_by_role("button", name="Submit review").click()
    conflict = grace.locator(".alert.conflict")
    conflict.wait_for()
    assert conflict.locator("tbody tr", has_text="units").inner_text().split("\t") == [
        "units",
        '["mixed3b:3","mixed3b:4","mixed3b:5"]',
        '["mixed3b:3","mixed3b:4"]',
    ]
    conflict.get_by_role("button", name="Retry on version 2").click()
    grace.locator("#hypothesis-status", has_text="accepted").wait_for()
    grace.locator("#unit-rows[data-pictures=true]").wait_for()
    screenshot(grace, "hypothesis-accepted")

    ada.goto(GRID)
    ada.wait_for_selector("#grid-page[data-ready=true]")
    titles = [ada.locator(f"#unit-{index}").get_attribute("title") for index in (3, 4, 5)]
    assert titles == ["mixed3b:3 · Curves", "mixed3b:4 · Curves", "mixed3b:5 · no group"]
    assert ada.locator("#legend li", has_text="Curves").inner_text().split() == ["Curves", "2"]
    ada.get_by_label("Show group").select_option(label="Curves (2)")
    assert ada.locator(".tile:visible").count() == 2
    ada.get_by_label("Show group").select_option("")
    ada.locator("#unit-3").click()
    screenshot(ada, "grid")
