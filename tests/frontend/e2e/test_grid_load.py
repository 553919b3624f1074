"""A 480-unit layer grid (InceptionV1 mixed3b) becomes interactive from one data request and one
sprite request: the API requests the browser made before the "grid-interactive" mark (set once
every tile is drawn, its handlers attached and the sprite sheet decoded). How fast is a
benchmark's question (bench/pages.py), not a test's: a loaded machine must not fail the suite."""

import pytest

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import rendered_layer, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

API_REQUESTS_BEFORE_INTERACTIVE = """() => {
  const interactive = performance.getEntriesByName("grid-interactive")[0].startTime;
  return performance.getEntriesByType("resource")
    .filter((entry) => new URL(entry.name).pathname.startsWith("/api/"))
    .filter((entry) => entry.startTime <= interactive)
    .map((entry) => new URL(entry.name).pathname);
}"""


def test_a_480_unit_grid_is_interactive_from_two_requests(browse):
    project = ProjectFactory(slug="circuits", name="Circuits")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=480, height=28, width=28)
    job = rendered_layer(layer)
    viewer = MembershipFactory(project=project, role=Role.VIEWER).user
    sprite = f"/api/v1/artifacts/{job.artifacts.get(kind='layer_sprite').pk}/download/"
    grid = "/api/v1/projects/circuits/grid/inceptionv1/mixed3b/"
    page = browse(viewer)

    page.goto("/p/circuits/grid/inceptionv1/mixed3b/")
    page.wait_for_selector("#grid-page[data-ready=true]")

    assert sorted(page.evaluate(API_REQUESTS_BEFORE_INTERACTIVE)) == sorted([sprite, grid])
    assert page.locator(".tile").count() == 480
    page.locator("#unit-0").click()
    page.keyboard.press("Shift+ArrowRight")
    assert page.locator("#selection-count").inner_text() == "2"
    screenshot(page, "grid-480")
