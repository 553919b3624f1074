"""A two-annotator round through the pages alone: a reviewer opens it, ada and bob each label
the units blind and submit, the round closes with its scores, and the reviewer decides the
unit they disagreed on."""

import re

import pytest

from annotations.models import Assignment, Group, Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import rendered_layer, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def team():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    rendered_layer(LayerFactory(network=network, name="mixed3b", channels=3, order=5))
    Group.objects.create(project=project, name="Curves")
    Group.objects.create(project=project, name="Lines")
    return {
        name: MembershipFactory(project=project, role=role, user__username=name).user
        for name, role in [
            ("grace", Role.REVIEWER),
            ("ada", Role.ANNOTATOR),
            ("bob", Role.ANNOTATOR),
        ]
    }


def label_and_submit(page, url, choices):
    page.goto(url)
    page.wait_for_selector("#round-page[data-ready=true]")
    for index, choice in enumerate(choices):
        page.get_by_label(f"Group for mixed3b:{index}").select_option(label=choice)
    page.get_by_role("button", name="Submit (labels are then frozen)").click()
    page.wait_for_selector("#labelling[hidden]", state="attached")


def test_open_label_blind_submit_and_decide_through_the_pages(browse, team):
    grace = browse(team["grace"])
    grace.goto("/p/early-vision/rounds/")
    grace.get_by_label("Title").fill("mixed3b first pass")
    grace.get_by_label("Layer (every unit of it)").fill("mixed3b")
    grace.get_by_label("ada (annotator)").check()
    grace.get_by_label("bob (annotator)").check()
    grace.get_by_label("Curves").check()
    grace.get_by_label("Lines").check()
    grace.get_by_role("button", name="Open round").click()
    grace.wait_for_url(re.compile(r"/rounds/\d+/$"))
    round_url = grace.url

    ada = browse(team["ada"])
    label_and_submit(ada, round_url, ["Curves", "Lines", "Curves"])
    bob = browse(team["bob"])
    bob.goto(round_url)
    bob.wait_for_selector("#round-page[data-ready=true]")
    # Blind: bob sees that ada submitted, not what she chose, and no scores.
    assert bob.locator('[data-participant="ada"]').inner_text() == "ada · submitted"
    assert bob.locator("#results").is_hidden()
    label_and_submit(bob, round_url, ["Curves", "Lines", "Lines"])
    screenshot(bob, "labelling-round-bob")

    grace.goto(round_url)
    grace.wait_for_selector("#round-page[data-ready=true]")
    assert grace.locator("#round-status").inner_text() == "closed"
    assert grace.locator("#matrix-title").inner_text() == (
        "Confusion matrix: ada (rows) against bob (columns)"
    )
    assert [row.inner_text() for row in grace.locator("#queue-rows th").all()] == ["mixed3b:2"]
    grace.get_by_label("Decision for mixed3b:2").select_option(label="Lines")
    grace.get_by_role("button", name="Decide mixed3b:2").click()
    grace.wait_for_selector("#queue-rows td.empty")
    screenshot(grace, "labelling-round-decided")

    assert list(Assignment.objects.values_list("unit__index", "group__name", "source")) == [
        (2, "Lines", "round")
    ]
