"""A 480-unit layer grid (InceptionV1 mixed3b) is interactive within a second, from one data
request and one sprite request, measured in the browser."""

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
  return {interactive_ms: interactive - start, api};
}"""


def test_a_480_unit_grid_is_interactive_within_a_second_from_two_requests(browse):
    project = ProjectFactory(slug="circuits", name="Circuits")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=480, height=28, width=28)
    job = rendered_layer(layer)
    viewer = MembershipFactory(project=project, role=Role.VIEWER).user
    page = browse(viewer)
    page.goto("/p/circuits/")  # warm the server's first request, not the grid's

    page.goto("/p/circuits/grid/inceptionv1/mixed3b/")
    page.wait_for_selector("#grid-page[data-ready=true]")
    timing = page.evaluate(MEASURE)
    print("GRID_LOAD", json.dumps(timing))

    sprite = f"/api/v1/artifacts/{job.artifacts.get(kind='layer_sprite').pk}/download/"
    assert sorted(timing["api"]) == sorted(
        [sprite, "/api/v1/projects/circuits/grid/inceptionv1/mixed3b/"]
    )
    assert page.locator(".tile").count() == 480
    assert timing["interactive_ms"] < 1000
    page.locator("#unit-0").click()
    page.keyboard.press("Shift+ArrowRight")
    assert page.locator("#selection-count").inner_text() == "2"
    screenshot(page, "grid-480")
