"""A 480-unit layer grid (InceptionV1 mixed3b) is interactive within a second, from one data
request and one sprite request, measured in the browser: from navigation start to the
"grid-interactive" mark, set once every tile is drawn, its handlers attached and the sprite
sheet decoded."""

import json

import pytest

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import rendered_layer, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

MEASURE = """() => {
  const start = performance.getEntriesByType("navigation")[0].startTime;
  const interactive = performance.getEntriesByName("grid-interactive")[0].startTime;
  const api = performance.getEntriesByType("resource")
    .filter((entry) => new URL(entry.name).pathname.startsWith("/api/"))
    .filter((entry) => entry.startTime <= interactive)
    .map((entry) => new URL(entry.name).pathname);
  const phases = Object.fromEntries(performance.getEntriesByType("resource").map((entry) => [
    new URL(entry.name).pathname.split("/").slice(-2).join("/"),
    [Math.round(entry.startTime), Math.round(entry.responseEnd), entry.transferSize],
  ]));
  return {interactive_ms: interactive - start, api, phases};
}"""


def test_a_480_unit_grid_is_interactive_within_a_second_from_two_requests(browse):
    project = ProjectFactory(slug="circuits", name="Circuits")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=480, height=28, width=28)
    job = rendered_layer(layer)
    viewer = MembershipFactory(project=project, role=Role.VIEWER).user
    sprite = f"/api/v1/artifacts/{job.artifacts.get(kind='layer_sprite').pk}/download/"
    grid = "/api/v1/projects/circuits/grid/inceptionv1/mixed3b/"
    browse(viewer).goto("/p/circuits/")  # the server's first request, not the grid's

    timings = []
    for _ in range(3):
        page = browse(viewer)  # a fresh context each time: nothing cached
        page.goto("/p/circuits/grid/inceptionv1/mixed3b/")
        page.wait_for_selector("#grid-page[data-ready=true]")
        timings.append(page.evaluate(MEASURE))
    print("GRID_LOAD", json.dumps(timings))

    assert [sorted(timing["api"]) for timing in timings] == [sorted([sprite, grid])] * 3
    # The median of three cold loads: one slow load on a shared machine is noise, two are not.
    assert sorted(timing["interactive_ms"] for timing in timings)[1] < 1000
    assert page.locator(".tile").count() == 480
    page.locator("#unit-0").click()
    page.keyboard.press("Shift+ArrowRight")
    assert page.locator("#selection-count").inner_text() == "2"
    screenshot(page, "grid-480")
