"""Every form control is labelled, and a hypothesis can be proposed with the keyboard alone."""

import re

import pytest

from annotations.models import Hypothesis, Role
from tests.factories.annotations import (
    GroupFactory,
    HypothesisFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import rendered_layer

pytestmark = pytest.mark.django_db(transaction=True)

UNLABELLED = """() => {
  const controls = [...document.querySelectorAll("input, select, textarea, button")]
    .filter((control) => control.type !== "hidden");
  const unlabelled = controls
    .filter((control) => control.tagName === "BUTTON"
      ? !(control.textContent.trim() || control.getAttribute("aria-label"))
      : !(control.labels.length || control.getAttribute("aria-label")))
    .map((control) => control.id || control.name || control.outerHTML.slice(0, 60));
  return [controls.length, unlabelled];
}"""


@pytest.fixture
def ada():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    rendered_layer(LayerFactory(network=network, name="mixed3b", channels=24))
    GroupFactory(project=project, name="Curves")
    HypothesisFactory(project=project, network=network)
    return MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user


def test_every_form_control_on_every_page_has_a_label(browse, ada):
    hypothesis = Hypothesis.objects.get()
    page = browse(ada)
    controls, unlabelled = {}, {}
    for path in [
        "/p/early-vision/",
        "/p/early-vision/grid/inceptionv1/mixed3b/",
        "/p/early-vision/units/inceptionv1/mixed3b:3/",
        f"/p/early-vision/taxonomy/#group-{hypothesis.project.groups.get().pk}",
        f"/p/early-vision/hypotheses/{hypothesis.pk}/",
        "/p/early-vision/reviews/",
        "/p/early-vision/jobs/",
        "/p/early-vision/exports/",
        "/p/early-vision/rounds/",
    ]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        controls[path], unlabelled[path] = page.evaluate(UNLABELLED)

    assert min(controls.values()) > 1
    assert {path: names for path, names in unlabelled.items() if names} == {}


def test_a_hypothesis_can_be_proposed_from_the_grid_with_the_keyboard_alone(browse, ada):
    page = browse(ada)
    page.goto("/p/early-vision/grid/inceptionv1/mixed3b/")
    page.wait_for_selector("#grid-page[data-ready=true]")
    for _ in range(30):
        if page.evaluate("document.activeElement.id") == "grid":
            break
        page.keyboard.press("Tab")
    for key in ["ArrowRight"] * 3 + ["Space"] + ["Shift+ArrowRight"] * 2:
        page.keyboard.press(key)
    assert page.locator("#selection-list").inner_text() == "mixed3b: 3, 4, 5"
    columns = page.evaluate("getComputedStyle(grid).gridTemplateColumns.split(' ').length")
    page.keyboard.press("ArrowDown")
    assert page.locator("#grid").get_attribute("aria-activedescendant") == f"unit-{5 + columns}"
    assert page.locator("#selection-count").inner_text() == "3"

    page.keyboard.press("h")
    page.keyboard.type("Curve detectors")
    page.keyboard.press("Tab")
    page.keyboard.type("Three curve detectors side by side.")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    # Past the evidence picker (its checkboxes come first) to the form's button.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Open hypothesis":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/hypotheses/\d+/$"))

    proposed = Hypothesis.objects.get(title="Curve detectors")
    assert sorted(row.unit.index for row in proposed.units.all()) == [3, 4, 5]
    assert proposed.proposed_group.name == "Curves"


def test_units_get_a_group_from_the_grid_with_the_keyboard_alone(browse, ada):
    page = browse(ada)
    page.goto("/p/early-vision/grid/inceptionv1/mixed3b/")
    page.wait_for_selector("#grid-page[data-ready=true]")
    page.locator("#grid").focus()
    for key in ["Space", "Shift+ArrowRight", "g"]:
        page.keyboard.press(key)
    page.locator("#assign-group option", has_text="Curves").wait_for(state="attached")
    for key in ["ArrowDown", "Tab", "Tab", "Enter"]:
        page.keyboard.press(key)

    page.locator("#unit-1.grouped").wait_for()
    titles = [page.locator(f"#unit-{index}").get_attribute("title") for index in (0, 1, 2)]
    assert titles == ["mixed3b:0 · Curves", "mixed3b:1 · Curves", "mixed3b:2 · no group"]


def test_a_refused_action_stays_on_screen_as_an_alert(browse, ada):
    project = ada.memberships.get().project
    viewer = MembershipFactory(project=project, role=Role.VIEWER, user__username="vera").user
    page = browse(viewer)
    page.clock.install()  # the page's timers run on a clock the test moves
    page.goto("/p/early-vision/grid/inceptionv1/mixed3b/")
    page.wait_for_selector("#grid-page[data-ready=true]")
    page.locator("#unit-4").click()
    page.get_by_label("Title").fill("Curves")
    page.get_by_role("button", name="Open hypothesis").click()

    alert = page.get_by_role("alert").locator(".alert")
    alert.wait_for()
    page.clock.run_for(60_000)  # a minute of the page's time passes, at once
    assert alert.is_visible()
    assert alert.get_attribute("data-code") == "permission_denied"
    assert "Open hypothesis" in alert.inner_text()
