"""A 12-node circuit across three layers, drawn in the circuit page and opened as a standalone
SVG file: the diagram renders, a click on a connection shows its kernel, units link to cards."""

import re

import numpy as np
import pytest

from annotations.models import CircuitEdge, CircuitNode, Role
from tests.factories.annotations import (
    CircuitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import SCREENSHOTS, rendered_layer, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

LAYERS = [("conv2d2", 2, [21, 40, 62, 87]), ("mixed3a", 3, [12, 31, 47, 85]),
          ("mixed3b", 4, [7, 51, 379, 400])]  # fmt: skip
ROLES = ["curve facing left", "line with a gap", "", "early curve"]
CLICKED = ("mixed3a:12", "mixed3b:379")


@pytest.fixture
def circuit():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    circuit = CircuitFactory(
        project=project,
        network=network,
        name="Curve detectors",
        description="Curve detectors in **mixed3b** are built from early curves and lines.",
    )
    nodes = {}
    for name, order, indices in LAYERS:
        layer = LayerFactory(network=network, name=name, order=order, channels=512)
        rendered_layer(layer, size=64)
        for position, index in enumerate(indices):
            nodes[f"{name}:{index}"] = CircuitNode.objects.create(
                circuit=circuit, unit=layer.units.get(index=index), role=ROLES[position]
            )
    rng = np.random.default_rng(8)
    addresses = list(nodes)
    for upper, lower in ((addresses[0:4], addresses[4:8]), (addresses[4:8], addresses[8:12])):
        for source in upper:
            for target in lower:
                if (source, target) != CLICKED and rng.random() > 0.45:
                    continue
                kernel = rng.normal(size=(5, 5)) * rng.uniform(0.1, 1.0)
                edge(circuit, nodes[source], nodes[target], kernel, "direct")
    edge(circuit, nodes["conv2d2:21"], nodes["mixed3b:400"], rng.normal(size=(9, 9)), "expanded")
    return circuit


def edge(circuit, source, target, kernel, kind):
    CircuitEdge.objects.create(
        circuit=circuit,
        source=source,
        target=target,
        magnitude=float(np.linalg.norm(kernel)),
        sign=int(np.sign(kernel.sum())),
        kind=kind,
        kernel=kernel.round(4).tolist(),
    )


def click_on_curve(page, selector):
    """A real mouse click on the edge's curve, at the first point along it (from its middle
    outwards) where no other edge or node lies on top of it."""
    point = page.evaluate(
        """(selector) => {
            const edge = document.querySelector(selector);
            edge.scrollIntoView({ block: "center" });
            const path = edge.querySelector("path");
            const length = path.getTotalLength();
            for (const share of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) {
                const screen = path.getPointAtLength(length * share)
                    .matrixTransform(path.getScreenCTM());
                if (document.elementFromPoint(screen.x, screen.y)?.closest("g.edge") === edge) {
                    return { x: screen.x, y: screen.y };
                }
            }
            return null;
        }""",
        selector,
    )
    assert point is not None, f"every point of {selector} lies under something else"
    page.mouse.click(point["x"], point["y"])


def test_the_circuit_page_draws_twelve_units_and_shows_a_kernel_on_click(browse, circuit):
    owner = MembershipFactory(project=circuit.project, role=Role.OWNER, user__username="ada").user
    stored = CircuitEdge.objects.get(
        circuit=circuit, source__unit__index=12, target__unit__index=379
    )
    page = browse(owner)

    page.goto(f"/p/early-vision/circuits/{circuit.pk}/")
    page.wait_for_selector("#circuit-page[data-ready=true]")

    assert page.locator("#circuit-name").inner_text() == "Curve detectors"
    assert page.locator("#circuit-description strong").inner_text() == "mixed3b"
    assert page.locator("#diagram .node").count() == 12
    assert page.locator("#diagram .node image").count() == 12
    assert page.locator("#diagram g.edge").count() == circuit.edges.count()
    assert page.locator("#edge-detail").is_hidden()
    selector = f"#diagram g.edge[data-source='{CLICKED[0]}'][data-target='{CLICKED[1]}']"
    click_on_curve(page, selector)
    page.locator("#edge-detail").wait_for()
    assert page.locator(selector).get_attribute("class") == "edge selected"
    assert page.locator("#edge-source").inner_text() == "mixed3a:12"
    assert page.locator("#edge-target").inner_text() == "mixed3b:379"
    weight = stored.sign * stored.magnitude
    effect = "excites" if weight > 0 else "inhibits"
    assert page.locator("#edge-weight").inner_text() == f"{weight:+.6g} ({effect})"
    assert page.locator("#edge-size").inner_text() == "5 × 5"
    assert page.locator("#edge-kernel svg rect").count() == 25
    cells = page.locator("#edge-values td").all_inner_texts()
    assert cells == [f"{value:.3f}" for row in stored.kernel for value in row]
    screenshot(page, "circuit")
    page.locator("#diagram a.node[data-address='mixed3b:379']").click()
    page.wait_for_url(re.compile(r"/units/inceptionv1/mixed3b(:|%3A)379/$"))


def test_the_diagram_opens_standalone_as_a_file(browse, circuit, tmp_path):
    member = MembershipFactory(project=circuit.project, role=Role.VIEWER).user
    page = browse(member)
    response = page.request.get(f"/api/v1/projects/early-vision/circuits/{circuit.pk}/diagram.svg")
    assert response.status == 200
    diagram = tmp_path / "circuit.svg"
    diagram.write_bytes(response.body())
    standalone = page.context.browser.new_page(viewport={"width": 900, "height": 1000})
    fetched = []
    standalone.on("request", lambda request: fetched.append(request.url))

    standalone.goto(diagram.as_uri())

    root = standalone.evaluate(
        "[document.documentElement.namespaceURI, document.documentElement.localName]"
    )
    assert root == ["http://www.w3.org/2000/svg", "svg"]
    assert standalone.locator(".node").count() == 12
    assert standalone.evaluate(
        "[...document.querySelectorAll('image')].every(i => i.getBBox().width === 96)"
    )
    assert [url for url in fetched if not url.startswith(("file:", "data:"))] == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A screenshot of the whole page waits forever on an SVG document; the viewport holds it.
    standalone.screenshot(path=str(SCREENSHOTS / "circuit-standalone.png"))
    standalone.close()
