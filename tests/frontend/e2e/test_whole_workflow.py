"""One whole labelling workflow, three people in three browsers, through the pages alone (the
test body makes no API call of its own; only the setup writes the project, its network, a
small registered dataset, a parent group and one unit's note to the database, and jobs run in
a thread standing in for the Celery worker):

 1. the owner requests a feature visualization (neuron objective) and dataset examples on the
    jobs page and watches both to the end;
 2. the owner finds a unit by a word of its note and opens its card;
 3. the owner compares three units side by side and makes the first release;
 4. the annotator proposes a hypothesis from the grid with evidence attached and a new group
    inside a chosen parent;
 5. the reviewer requests changes and @mentions the annotator;
 6. the annotator follows the mention and revises the units;
 7. the reviewer approves; the taxonomy page shows the new group inside its parent;
 8. the owner assigns a unit directly and undoes it;
 9. the owner grows a circuit from a unit and opens its diagram;
10. the owner changes the project's review policy;
11. the owner downloads the HTML overview;
12. the owner makes a release and reads its diff against the first release.

No step is left out.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from annotations.models import Assignment, Group, Hypothesis, Project, ProjectDataset, Role
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.frontend.e2e.artifacts import SCREENSHOTS
from workers import runtime
from workers.models import Job
from workers.services.datasets import dataset_register
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT = "/p/mobile/"
GRID = f"{PROJECT}grid/mobilenet-v2/features.2/"
JOB_WAIT = 300_000  # a real job on a loaded CPU


def shot(page, name):
    folder = SCREENSHOTS / "workflow"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


@pytest.fixture(autouse=True)
def _fresh_network_cache(monkeypatch):
    monkeypatch.setattr(runtime, "_networks", runtime.OrderedDict())
    monkeypatch.setattr(runtime, "_device", torch.device("cpu"))


@pytest.fixture
def team(tmp_path):
    """owner, reviewer, annotator on a project with MobileNetV2, six small photos, a group
    ready to be a parent and one unit's note."""
    project = ProjectFactory(slug="mobile", name="MobileNet")
    network = network_register(name="mobilenet-v2", arch="mobilenet_v2", bundled_weights=True)
    ProjectNetworkFactory(project=project, network=network)
    # Not tmp_path itself: MEDIA_ROOT lies inside it, and a dataset folder is read recursively
    # when a job runs, so the renders written before would join the photos.
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for number in range(6):
        pixels = rng.integers(0, 256, size=(48, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo_{number}.png")
    photos = dataset_register(name="photos", path=str(folder))
    ProjectDataset.objects.create(project=project, dataset=photos)
    early = GroupFactory(project=project, name="Early vision", color="#4e79a7")
    unit = network.layers.get(name="features.2").units.get(index=9)
    AssignmentFactory(project=project, group=early, unit=unit, note="Fires on a teacup's rim.")
    return (
        MembershipFactory(project=project, role=Role.OWNER, user__username="olga").user,
        MembershipFactory(project=project, role=Role.REVIEWER, user__username="grace").user,
        MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="ada").user,
    )


def test_three_people_label_a_network_from_render_to_release(browse, team, worker):
    owner_user, reviewer_user, annotator_user = team
    owner = browse(owner_user)

    # 1. A feature visualization with the neuron objective, then dataset examples.
    owner.goto(f"{PROJECT}jobs/")
    owner.wait_for_selector("#jobs-page[data-ready=true]")
    owner.get_by_label("Layer", exact=True).select_option(label="mobilenet-v2 / features.2 (24)")
    owner.get_by_label("Kind", exact=True).select_option("feature_visualization")
    owner.get_by_label("Objective", exact=True).select_option("neuron")
    owner.get_by_label("Steps", exact=True).fill("4")
    owner.get_by_label("Size", exact=True).fill("32")
    owner.get_by_label("Units", exact=True).fill("0-3")
    owner.get_by_role("button", name="Request job").click()
    rendered = owner.locator("#job-rows tr", has_text="feature visualization")
    rendered.and_(owner.locator("[data-status=succeeded]")).wait_for(timeout=JOB_WAIT)
    owner.get_by_label("Kind", exact=True).select_option("dataset_examples")
    owner.get_by_label("Dataset", exact=True).select_option("photos")
    owner.get_by_label("Examples per unit", exact=True).fill("2")
    owner.get_by_role("button", name="Request job").click()
    examples = owner.locator("#job-rows tr", has_text="dataset examples")
    examples.and_(owner.locator("[data-status=succeeded]")).wait_for(timeout=JOB_WAIT)
    assert "neuron · 4 steps · 32 px" in rendered.inner_text()
    assert "dataset photos · 2 per unit" in examples.inner_text()
    shot(owner, "01-jobs")

    # 2. A unit found by a word of its note.
    owner.goto(PROJECT)
    owner.get_by_role("searchbox", name="Search").fill("teacup")
    owner.get_by_role("button", name="Search", exact=True).click()
    hit = owner.locator("#search-results [data-kind=units] li")
    hit.first.wait_for()
    assert hit.count() == 1
    assert "features.2:9" in hit.inner_text()
    shot(owner, "02-search")
    hit.get_by_role("link").click()
    owner.wait_for_url("**/p/mobile/units/mobilenet-v2/features.2*9/")
    assert owner.locator("#unit-address").inner_text() == "features.2:9"

    # 3. Three units compared, then the first release.
    owner.goto(GRID)
    owner.wait_for_selector("#grid-page[data-ready=true]")
    owner.locator("#unit-0").click()
    owner.locator("#unit-1").click(modifiers=["Control"])
    owner.locator("#unit-2").click(modifiers=["Control"])
    owner.get_by_role("link", name="Compare side by side").click()
    owner.wait_for_url(re.compile(r"/p/mobile/compare/mobilenet-v2/\?units="))
    owner.wait_for_selector("#compare-page[data-ready=true]")
    headers = owner.locator("#compare-table thead th[data-unit]").all_inner_texts()
    assert headers == ["features.2:0", "features.2:1", "features.2:2"]
    assert owner.locator("tr[data-row=featurevis] td[data-unit='features.2:2'] img").count() >= 1
    stats = owner.locator("tr[data-row=stats] td").all_inner_texts()
    assert all(re.search(r"of 6 images \(photos\)", cell) for cell in stats), stats
    shot(owner, "03-compare")
    owner.goto(f"{PROJECT}exports/")
    owner.wait_for_selector("#exports-page[data-ready=true]")
    owner.get_by_label("Name").fill("v1")
    owner.get_by_role("button", name="Make release").click()
    owner.locator("#release-rows [data-release=v1]").wait_for()

    # 4. The annotator proposes a hypothesis with evidence and a new group.
    annotator = browse(annotator_user)
    annotator.goto(GRID)
    annotator.wait_for_selector("#grid-page[data-ready=true]")
    annotator.locator("#unit-0").click()
    annotator.locator("#unit-2").click(modifiers=["Shift"])
    assert annotator.locator("#selection-list").inner_text() == "features.2: 0, 1, 2"
    annotator.get_by_label("Title").fill("Stripe detectors")
    annotator.get_by_label("Claim").fill("Units 0 to 2 respond to **stripes**.")
    annotator.get_by_label("Proposed group").select_option("new")
    annotator.get_by_label("New group name").fill("Stripes")
    early = Group.objects.get(name="Early vision")
    annotator.locator("#hypothesis-new-group-parent option", has_text="Early vision").wait_for(
        state="attached"
    )
    annotator.get_by_label("Inside").select_option(str(early.pk))
    annotator.get_by_role("button", name="Find evidence for these units").click()
    annotator.wait_for_selector("#hypothesis-evidence[data-ready=true]")
    annotator.get_by_label(re.compile(r"^features\.2:0 · feature visualization")).first.check()
    annotator.get_by_label(re.compile(r"^features\.2:1 · dataset examples")).first.check()
    shot(annotator, "04-evidence-chosen")
    annotator.get_by_role("button", name="Open hypothesis").click()
    annotator.wait_for_url(re.compile(r"/hypotheses/\d+/$"))
    annotator.wait_for_selector("#hypothesis-page[data-ready=true]")
    hypothesis_url = annotator.url
    assert annotator.locator("#hypothesis-proposal").inner_text() == (
        "Proposes a new group “Stripes” inside Early vision for these units."
    )
    evidence = annotator.locator("#evidence figcaption").all_inner_texts()
    assert [caption.split(" · ")[:2] for caption in evidence] == [
        ["features.2:0", "feature visualization (neuron)"],
        ["features.2:1", "dataset examples (top)"],
    ]
    shot(annotator, "04-hypothesis")

    # 5. The reviewer asks for changes and mentions the annotator.
    reviewer = browse(reviewer_user)
    reviewer.goto(f"{PROJECT}reviews/")
    reviewer.locator("#queue-list a", has_text="Stripe detectors").click()
    reviewer.wait_for_selector("#hypothesis-page[data-ready=true]")
    reviewer.get_by_label("Request changes").check()
    reviewer.get_by_label("Comment", exact=True).fill("Unit 2 looks different; drop it.")
    reviewer.get_by_role("button", name="Submit review").click()
    reviewer.locator("#review-list [data-verdict=request_changes]").wait_for()
    reviewer.get_by_label("New comment").fill("@ada compare unit 2 with unit 0 side by side.")
    reviewer.get_by_role("button", name="Post comment").click()
    reviewer.locator(".comment", has_text="compare unit 2").wait_for()
    shot(reviewer, "05-review")

    # 6. The annotator follows the mention and revises.
    annotator.goto(PROJECT)
    mention = annotator.locator("#notification-list .mention a")
    mention.wait_for()
    assert "grace" in mention.inner_text()
    mention.click()
    annotator.wait_for_selector("#hypothesis-page[data-ready=true]")
    assert annotator.url.startswith(hypothesis_url)
    annotator.get_by_label("Units (layer:index, comma separated)").fill(
        "features.2:0, features.2:1"
    )
    annotator.get_by_role("button", name="Save revision").click()
    annotator.locator("#hypothesis-meta", has_text="version 2").wait_for()
    shot(annotator, "06-revised")

    # 7. The reviewer approves the revision; the new group stands inside its parent.
    reviewer.goto(hypothesis_url)
    reviewer.wait_for_selector("#hypothesis-page[data-ready=true]")
    reviewer.locator("#hypothesis-meta", has_text="version 2").wait_for()
    reviewer.get_by_label("Approve").check()
    reviewer.get_by_role("button", name="Submit review").click()
    reviewer.locator("#hypothesis-status", has_text="accepted").wait_for()
    shot(reviewer, "07-accepted")
    owner.goto(f"{PROJECT}taxonomy/")
    owner.wait_for_selector("#taxonomy-page[data-ready=true]")
    owner.locator(f"#group-{early.pk} ul .node", has_text="Stripes").wait_for()
    stripes = Group.objects.get(name="Stripes")
    shot(owner, "07-taxonomy")

    # 8. A direct assignment, undone.
    owner.goto(GRID)
    owner.wait_for_selector("#grid-page[data-ready=true]")
    owner.locator("#unit-3").click()
    owner.locator("#assign-group").focus()
    owner.locator(f"#assign-group option[value='{stripes.pk}']").wait_for(state="attached")
    owner.locator("#assign-group").select_option(str(stripes.pk))
    owner.get_by_role("button", name="Assign group").click()
    owner.locator("#unit-3[title='features.2:3 · Stripes']").wait_for()
    owner.goto(PROJECT)
    owner.wait_for_selector("#undo-last[data-ready=true]")
    assert "put 1 unit into Stripes" in owner.locator("#undo-last").inner_text()
    owner.locator("#undo-last").get_by_role("button", name="Undo").click()
    owner.locator("#undo-last", has_text="Nothing of yours to undo.").wait_for()
    shot(owner, "08-undone")

    # 9. A circuit grown from a unit, its diagram opened.
    owner.locator("#circuit-create").get_by_label("Name").fill("Stripe circuit")
    owner.locator("#circuit-create").get_by_label("Network").select_option("mobilenet-v2")
    owner.get_by_role("button", name="Create circuit").click()
    owner.wait_for_selector("#circuit-page[data-ready=true]")
    circuit_url = owner.url
    owner.goto(f"{PROJECT}units/mobilenet-v2/features.2:0/")
    owner.wait_for_selector("#circuit-form[data-ready=true]")
    owner.locator("#circuit-form").get_by_label("Circuit", exact=True).select_option(
        label="Stripe circuit"
    )
    owner.get_by_role("button", name="Add to circuit").click()
    added = owner.locator("#circuit-added")
    added.get_by_role("link", name="Stripe circuit").wait_for()
    added.get_by_role("link", name="Stripe circuit").click()
    owner.wait_for_selector("#circuit-page[data-ready=true]")
    assert owner.url == circuit_url
    owner.get_by_label("From", exact=True).select_option(label="features.2:0")
    owner.get_by_label("Direction").select_option("inputs")
    owner.get_by_label("How many").fill("3")
    owner.get_by_role("button", name="Grow").click()
    owner.locator("#weights-job[data-status=succeeded]").wait_for(timeout=JOB_WAIT)
    owner.locator("#node-rows tr").nth(3).wait_for()
    owner.locator("#diagram g.edge").nth(2).wait_for(state="attached")
    assert owner.locator("#diagram .node").count() == 4
    shot(owner, "09-circuit")
    with owner.expect_download() as diagram:
        owner.get_by_role("link", name="Download SVG").click()
    assert Path(diagram.value.path()).read_text().lstrip().startswith(("<svg", "<?xml"))

    # 10. The project's review policy changed.
    owner.goto(f"{PROJECT}settings/")
    owner.wait_for_selector("#settings-page[data-ready=true]")
    owner.get_by_label("Units change group only through reviewed hypotheses").check()
    owner.get_by_label("Approvals that accept a hypothesis").fill("2")
    owner.get_by_role("button", name="Save policy").click()
    owner.locator("#policy-version", has_text="Version 2.").wait_for()
    shot(owner, "10-settings")

    # 11. The HTML overview downloaded; 12. a release, diffed against the first.
    owner.goto(f"{PROJECT}exports/")
    owner.wait_for_selector("#exports-page[data-ready=true]")
    with owner.expect_download() as overview:
        owner.locator("[data-network=mobilenet-v2] a", has_text="HTML overview").click()
    html = Path(overview.value.path()).read_text()
    assert "Stripes" in html
    assert "/p/mobile/units/mobilenet-v2/features.2:0/" in html
    owner.get_by_label("Name").fill("v2")
    owner.get_by_role("button", name="Make release").click()
    owner.locator("#release-rows [data-release=v2]").wait_for()
    owner.get_by_label("Name").fill("v3")
    owner.get_by_label("Notes").fill("Nothing changed since v2.")
    owner.get_by_role("button", name="Make release").click()
    owner.get_by_label("Compare v3 with").select_option("v1")
    owner.get_by_role("button", name="Changes in v3").click()
    owner.locator("#diff-title", has_text="Changes from v1 to v3").wait_for()
    diff = owner.locator("#diff").inner_text()
    assert "Groups added (1)\nEarly vision / Stripes" in diff
    assert "mobilenet-v2/features.2:0 no group → Early vision / Stripes" in diff
    assert "mobilenet-v2/features.2:1 no group → Early vision / Stripes" in diff
    assert "features.2:3" not in diff
    shot(owner, "12-release-diff")

    hypothesis = Hypothesis.objects.get()
    assert (hypothesis.status, hypothesis.version) == ("accepted", 2)
    assert sorted(
        Assignment.objects.filter(group__name="Stripes").values_list(
            "unit__index", "assigned_by__username"
        )
    ) == [(0, "ada"), (1, "ada")]
    assert Group.objects.get(pk=stripes.pk).parent_id == early.pk
    project = Project.objects.get(slug="mobile")
    assert (project.assignments_need_review, project.required_approvals) == (True, 2)
    assert sorted(Job.objects.values_list("kind", "status")) == [
        ("connections", "succeeded"),
        ("dataset_examples", "succeeded"),
        ("feature_visualization", "succeeded"),
    ]
