"""Circuits through the pages alone: created from the project page, filled from a grid
selection and a unit card, grown from a unit while the page follows the connections job a
worker runs (then the diagram's labels are checked where the browser drew them), role notes
edited, a hypothesis about the circuit proposed."""

import pytest
import torch

from annotations.models import Circuit, CircuitNode, Hypothesis, Role
from annotations.services.projects import project_network_link
from tests.factories.annotations import CircuitFactory, MembershipFactory, ProjectFactory
from tests.frontend.e2e.artifacts import screenshot
from workers import runtime
from workers.engine.errors import EngineError
from workers.models import Job, Network
from workers.renderers import connections as connections_renderer
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db(transaction=True)

LABELS_OVERLAPPING = """() => {
  const boxes = [...document.querySelectorAll("#diagram svg text")]
    .filter((text) => text.textContent && !text.closest("defs"))
    .map((text) => [text.textContent, text.getBoundingClientRect()]);
  const pairs = [];
  boxes.forEach(([a, one], number) => {
    for (const [b, other] of boxes.slice(number + 1)) {
      if (one.left < other.right && other.left < one.right
          && one.top < other.bottom && other.top < one.bottom) pairs.push([a, b]);
    }
  });
  return [boxes.length, pairs];
}"""


@pytest.fixture(autouse=True)
def _fresh_network_cache(monkeypatch):
    monkeypatch.setattr(runtime, "_networks", runtime.OrderedDict())
    monkeypatch.setattr(runtime, "_device", torch.device("cpu"))


@pytest.fixture
def project():
    project = ProjectFactory(slug="mobile", name="MobileNet")
    network = network_register(name="mobilenet", arch="mobilenet_v2", random_seed=0, input_size=64)
    project_network_link(project=project, network=network, actor=None)
    return project


@pytest.fixture
def annotator(project):
    return MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="ada").user


@pytest.fixture
def seeded(project, annotator):
    """A circuit with one unit, features.2.expand:0."""
    network = Network.objects.get(name="mobilenet")
    circuit = CircuitFactory(
        project=project, network=network, name="Expansion", created_by=annotator
    )
    unit = circuit.network.layers.get(name="features.2.expand").units.get(index=0)
    CircuitNode.objects.create(circuit=circuit, unit=unit, role="seed")
    return circuit


def open_circuit(page, circuit):
    page.goto(f"/p/mobile/circuits/{circuit.pk}/")
    page.wait_for_selector("#circuit-page[data-ready=true]")


def test_a_circuit_is_created_on_the_project_page_and_listed_there(browse, project, annotator):
    page = browse(annotator)
    page.goto("/p/mobile/")

    page.locator("#circuit-create").get_by_label("Name").fill("Curve builders")
    page.locator("#circuit-create").get_by_label("Network").select_option("mobilenet")
    page.locator("#circuit-create").get_by_label("Description").fill("Built from **edges**.")
    page.get_by_role("button", name="Create circuit").click()
    page.wait_for_selector("#circuit-page[data-ready=true]")

    circuit = Circuit.objects.get(project=project)
    assert (circuit.name, circuit.network.name) == ("Curve builders", "mobilenet")
    assert page.locator("#circuit-name").inner_text() == "Curve builders"
    assert page.locator("#circuit-description strong").inner_text() == "edges"
    page.goto("/p/mobile/")
    listed = page.locator("#circuit-list a", has_text="Curve builders")
    listed.click()
    page.wait_for_url(f"**/p/mobile/circuits/{circuit.pk}/")


def test_units_selected_in_the_grid_are_added_to_a_circuit(browse, seeded, annotator):
    page = browse(annotator)
    page.goto("/p/mobile/grid/mobilenet/features.2.expand/")
    page.wait_for_selector("#grid-page[data-ready=true]")

    page.locator("#unit-3").click()
    page.locator("#unit-7").click(modifiers=["Shift"])
    page.wait_for_selector("#circuit-form[data-ready=true]")
    page.locator("#circuit-form").get_by_label("Circuit", exact=True).select_option(
        label="Expansion"
    )
    page.locator("#circuit-form").get_by_label("Role in the circuit").fill("picked in the grid")
    page.get_by_role("button", name="Add to circuit").click()

    added = page.locator("#circuit-added")
    added.get_by_role("link", name="Expansion").wait_for()
    assert added.inner_text() == "Added 5 units to Expansion."
    nodes = seeded.nodes.order_by("unit__index")
    assert [(node.unit.index, node.role) for node in nodes] == [(0, "seed")] + [
        (index, "picked in the grid") for index in range(3, 8)
    ]
    added.get_by_role("link", name="Expansion").click()
    page.wait_for_selector("#circuit-page[data-ready=true]")
    assert page.locator("#node-rows tr").count() == 6
    assert page.locator("#diagram .node").count() == 6


def test_a_unit_card_adds_its_unit_to_a_circuit(browse, seeded, annotator):
    page = browse(annotator)
    page.goto("/p/mobile/units/mobilenet/features.2.expand:9/")
    page.wait_for_selector("#circuit-form[data-ready=true]")

    page.locator("#circuit-form").get_by_label("Circuit", exact=True).select_option(
        label="Expansion"
    )
    page.get_by_role("button", name="Add to circuit").click()

    page.locator("#circuit-added", has_text="Added 1 unit to Expansion.").wait_for()
    assert seeded.nodes.filter(unit__index=9, unit__layer__name="features.2.expand").exists()


def test_growing_waits_for_the_weights_job_then_adds_the_strongest_inputs(
    browse, seeded, annotator, worker
):
    page = browse(annotator)
    open_circuit(page, seeded)

    page.get_by_label("From", exact=True).select_option(label="features.2.expand:0")
    page.get_by_label("Direction").select_option("inputs")
    page.get_by_label("How many").fill("3")
    page.get_by_role("button", name="Grow").click()

    page.wait_for_selector("#weights-job[data-status=succeeded]")
    page.locator("#node-rows tr").nth(3).wait_for()
    job = Job.objects.get(kind=Job.Kind.CONNECTIONS)
    assert job.status == Job.Status.SUCCEEDED
    assert page.locator("#weights-job").get_attribute("data-job") == str(job.pk)
    assert seeded.nodes.count() == 4
    assert seeded.edges.count() == 3
    assert set(seeded.nodes.values_list("unit__layer__name", flat=True)) == {
        "features.1",
        "features.2.expand",
    }
    page.locator("#diagram g.edge").nth(2).wait_for(state="attached")
    assert page.locator("#diagram g.edge").count() == 3
    assert page.locator("#diagram .node").count() == 4
    labels, overlapping = page.evaluate(LABELS_OVERLAPPING)
    assert labels > 8
    assert overlapping == []
    screenshot(page, "circuit-grown")


def test_a_failed_weights_job_is_shown_with_its_error_and_nothing_is_added(
    browse, seeded, annotator, worker, monkeypatch
):
    def out_of_memory(*args, **kwargs):
        raise EngineError("out of memory")

    monkeypatch.setattr(connections_renderer, "unit_weights", out_of_memory)
    page = browse(annotator)
    open_circuit(page, seeded)

    page.get_by_role("button", name="Grow").click()

    page.wait_for_selector("#weights-job[data-status=failed]")
    job = Job.objects.get(kind=Job.Kind.CONNECTIONS)
    failure = f"Job #{job.pk}, computing the weights, failed: out of memory"
    assert page.locator("#weights-job-text").inner_text() == failure
    page.locator("#alerts .alert", has_text=failure).wait_for()
    assert seeded.nodes.count() == 1


def test_a_role_note_is_edited_and_a_hypothesis_about_the_circuit_proposed(
    browse, seeded, annotator
):
    page = browse(annotator)
    open_circuit(page, seeded)
    page.locator("#thread form").first.wait_for()
    assert page.locator("#alerts .alert").count() == 0

    page.get_by_label("role of features.2.expand:0").fill("expands the stem's edges")
    page.get_by_role("button", name="Save role").click()
    page.locator("#status", has_text="Role of features.2.expand:0 saved.").wait_for()
    page.locator("#diagram .node .role", has_text="expands the stem").first.wait_for()
    page.get_by_label("Title").fill("The expansion copies edges")
    page.get_by_label("Claim").fill("Every unit here repeats an edge of features.1.")
    page.get_by_role("button", name="Open hypothesis").click()
    page.wait_for_url("**/p/mobile/hypotheses/*/")

    assert seeded.nodes.get().role == "expands the stem's edges"
    hypothesis = Hypothesis.objects.get()
    assert (hypothesis.circuit_id, hypothesis.title) == (seeded.pk, "The expansion copies edges")
    assert [str(unit.unit.address) for unit in hypothesis.units.all()] == ["features.2.expand:0"]
