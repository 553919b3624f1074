"""Evidence in the pages: a hypothesis proposed from the grid with a visualization, dataset
examples and a circuit chosen in the form, shown on the review and hypothesis pages beside the
units' own pictures, accepted by a reviewer as one feed entry crediting the author; then an
assignment undone from the project page."""

import re

import pytest

from annotations.models import Assignment, Group, Role
from tests.factories.annotations import (
    CircuitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import JobFactory, LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import pattern_tile, rendered_layer, rendered_units, screenshot
from workers.engine.images import encode_png
from workers.models import Artifact, Job
from workers.services.artifacts import ArtifactBatch

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT = "/p/early-vision/"
GRID = f"{PROJECT}grid/inceptionv1/mixed3b/"


def examples_of(layer, indices):
    """A dataset-examples job with a strip of top examples per unit."""
    job = JobFactory(
        layer=layer,
        kind=Job.Kind.DATASET_EXAMPLES,
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        params={"dataset": "demo", "crop_size": 64},
    )
    batch = ArtifactBatch(job)
    for unit in layer.units.filter(index__in=indices):
        batch.add(
            unit=unit,
            kind=Artifact.Kind.UNIT_IMAGE,
            variant="top",
            filename=f"unit_{unit.index:05d}_top.png",
            content=encode_png(pattern_tile(500 + unit.index, 64)),
            content_type="image/png",
        )
    batch.commit()


@pytest.fixture
def team():
    project = ProjectFactory(slug="early-vision", name="Early vision", required_approvals=1)
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=16, order=5)
    rendered_layer(layer)
    rendered_units(layer, [3, 4])
    examples_of(layer, [3, 4])
    CircuitFactory(project=project, network=network, name="Curve circuit")
    ada = MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="ada").user
    grace = MembershipFactory(project=project, role=Role.REVIEWER, user__username="grace").user
    return ada, grace


def test_propose_with_evidence_review_accept_and_undo(browse, team):
    ada_user, grace_user = team
    ada = browse(ada_user)
    ada.goto(GRID)
    ada.wait_for_selector("#grid-page[data-ready=true]")
    ada.locator("#unit-3").click()
    ada.locator("#unit-4").click(modifiers=["Shift"])
    ada.get_by_label("Title").fill("Curve detectors")
    ada.get_by_label("Claim").fill("Units 3 and 4 respond to curves.")
    ada.get_by_label("Proposed group").select_option("new")
    ada.get_by_label("New group name").fill("Curves")
    ada.get_by_role("button", name="Find evidence for these units").click()
    ada.wait_for_selector("#hypothesis-evidence[data-ready=true]")
    ada.get_by_label("mixed3b:3 · feature visualization (positive)").check()
    ada.get_by_label("mixed3b:4 · dataset examples (top)").check()
    ada.get_by_label("circuit Curve circuit").check()
    screenshot(ada, "hypothesis-evidence-chosen")
    ada.get_by_role("button", name="Open hypothesis").click()
    ada.wait_for_url(re.compile(r"/hypotheses/\d+/$"))
    ada.wait_for_selector("#hypothesis-page[data-ready=true]")
    assert ada.locator("#evidence figcaption").all_inner_texts() == [
        "mixed3b:3 · feature visualization (positive)",
        "mixed3b:4 · dataset examples (top)",
        "circuit Curve circuit",
    ]

    grace = browse(grace_user)
    grace.goto(f"{PROJECT}reviews/")
    queued = grace.locator("#queue-list li", has_text="Curve detectors")
    queued.locator(".evidence-strip figure").nth(2).wait_for()
    assert queued.locator(".evidence-strip figure").count() == 3
    queued.get_by_role("link", name="Curve detectors").click()
    grace.wait_for_selector("#hypothesis-page[data-ready=true]")
    grace.wait_for_selector("#unit-pictures[data-ready=true]")
    assert grace.locator("#unit-pictures figcaption").all_inner_texts() == [
        "mixed3b:3 · feature visualization (positive)",
        "mixed3b:3 · dataset examples (top)",
        "mixed3b:4 · feature visualization (positive)",
        "mixed3b:4 · dataset examples (top)",
    ]
    assert grace.locator("#evidence figure").count() == 3
    screenshot(grace, "hypothesis-evidence-review")
    grace.get_by_label("Approve").check()
    grace.get_by_role("button", name="Submit review").click()
    grace.locator("#hypothesis-status", has_text="accepted").wait_for()

    grace.goto(PROJECT)
    accepted = grace.locator("#activity-list li[data-verb='hypothesis.accepted']")
    accepted.wait_for()
    assert "ada’s hypothesis accepted: Curve detectors → Curves, 2 unit(s)" in accepted.inner_text()
    assert "approved by grace" in accepted.inner_text()
    assert grace.locator("#activity-list li[data-verb='unit.assigned']").count() == 0

    # grace, a reviewer, puts unit 7 into Curves directly, then takes it back.
    curves = Group.objects.get(name="Curves")
    grace.goto(GRID)
    grace.wait_for_selector("#grid-page[data-ready=true]")
    grace.locator("#unit-7").click()
    grace.locator("#assign-group").focus()
    grace.locator(f"#assign-group option[value='{curves.pk}']").wait_for(state="attached")
    grace.locator("#assign-group").select_option(str(curves.pk))
    grace.get_by_role("button", name="Assign group").click()
    grace.locator("#unit-7[title='mixed3b:7 · Curves']").wait_for()
    grace.goto(PROJECT)
    grace.wait_for_selector("#undo-last[data-ready=true]")
    assert "put 1 unit into Curves" in grace.locator("#undo-last").inner_text()
    grace.locator("#undo-last").get_by_role("button", name="Undo").click()
    grace.locator("#undo-last", has_text="Nothing of yours to undo.").wait_for()
    screenshot(grace, "project-after-undo")
    assert sorted(
        Assignment.objects.filter(group=curves).values_list("unit__index", "assigned_by__username")
    ) == [(3, "ada"), (4, "ada")]
