"""The render form: every job kind with its options. A feature visualization with an objective
and a seed and dataset examples on a chosen registered dataset are requested from the page,
run for real (in threads standing in for the Celery worker) and watched to the end; a
refused combination shows the API's error next to its field."""

import numpy as np
import pytest
from PIL import Image

from annotations.models import ProjectDataset, Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.frontend.e2e.artifacts import screenshot
from workers.models import Job
from workers.services.datasets import dataset_register
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ada(tmp_path):
    project = ProjectFactory(slug="mobile", name="MobileNet")
    network = network_register(name="mobilenet-v2", arch="mobilenet_v2", bundled_weights=True)
    ProjectNetworkFactory(project=project, network=network)
    # A folder of its own: the media folder (renders of earlier jobs) lives under tmp_path too.
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for number in range(6):
        pixels = rng.integers(0, 256, size=(48, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo_{number}.png")
    photos = dataset_register(name="photos", path=str(folder))
    ProjectDataset.objects.create(project=project, dataset=photos)
    return MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="ada").user


def test_the_form_sends_each_kind_with_its_options_and_the_jobs_are_watched_to_the_end(
    browse, ada, worker
):
    page = browse(ada)
    page.goto("/p/mobile/jobs/")
    page.wait_for_selector("#jobs-page[data-ready=true]")
    page.get_by_label("Layer", exact=True).select_option(label="mobilenet-v2 / features.2 (24)")
    page.get_by_label("Kind", exact=True).select_option("feature_visualization")
    page.get_by_label("Objective", exact=True).select_option("neuron")
    page.get_by_label("Steps", exact=True).fill("6")
    page.get_by_label("Size", exact=True).fill("32")
    page.get_by_label("Seed", exact=True).fill("7")
    page.get_by_label("Units", exact=True).fill("0-3")

    page.get_by_role("button", name="Request job").click()

    rendered = page.locator("#job-rows tr", has_text="feature visualization")
    rendered.and_(page.locator("[data-status=succeeded]")).wait_for(timeout=300_000)
    render = Job.objects.get(kind="feature_visualization")
    assert (render.params["objective"], render.params["seed"], render.params["steps"]) == (
        "neuron",
        7,
        6,
    )
    assert "neuron · 6 steps · 32 px · seed 7" in rendered.inner_text()
    assert rendered.locator("td.device").inner_text() == render.device == "cpu"

    page.get_by_label("Kind", exact=True).select_option("dataset_examples")
    assert page.get_by_label("Objective", exact=True).is_hidden()
    page.get_by_label("Dataset", exact=True).select_option("photos")
    page.get_by_label("Examples per unit", exact=True).fill("2")
    page.get_by_role("button", name="Request job").click()

    examples = page.locator("#job-rows tr", has_text="dataset examples")
    examples.and_(page.locator("[data-status=succeeded]")).wait_for(timeout=300_000)
    search = Job.objects.get(kind="dataset_examples")
    assert (search.params["dataset"], search.params["k"], search.unit_indices) == (
        "photos",
        2,
        [0, 1, 2, 3],
    )
    assert "dataset photos · 2 per unit" in examples.inner_text()
    screenshot(page, "render-form")


def test_the_weights_source_defaults_to_the_nearest_layer_with_spatial_kernels(browse, ada):
    page = browse(ada)
    page.goto("/p/mobile/jobs/")
    page.wait_for_selector("#jobs-page[data-ready=true]")

    page.get_by_label("Layer", exact=True).select_option(label="mobilenet-v2 / features.2 (24)")
    page.get_by_label("Kind", exact=True).select_option("weights")

    source = page.get_by_label("From layer", exact=True)
    assert source.locator("option").first.inner_text() == (
        "nearest earlier layer with spatial kernels (features.2.expand)"
    )
    assert source.locator("option").nth(1).inner_text() == "features.2.depthwise"


def test_a_refused_combination_shows_the_apis_error_next_to_the_field(browse, ada):
    page = browse(ada)
    page.goto("/p/mobile/jobs/")
    page.wait_for_selector("#jobs-page[data-ready=true]")
    page.get_by_label("Layer", exact=True).select_option(label="mobilenet-v2 / features.2 (24)")
    page.get_by_label("Kind", exact=True).select_option("feature_visualization")
    page.get_by_label("Objective", exact=True).select_option("diversity")
    page.get_by_label("Images per unit", exact=True).fill("1")

    page.get_by_role("button", name="Request job").click()

    error = page.locator("#error-diversity")
    error.filter(has_text="at least 2").wait_for()
    assert page.get_by_label("Images per unit", exact=True).get_attribute("aria-invalid") == "true"
    assert Job.objects.count() == 0

    page.get_by_label("Layer", exact=True).select_option(label="mobilenet-v2 / features.0 (32)")
    page.get_by_label("Kind", exact=True).select_option("weights")
    page.get_by_role("button", name="Request job").click()

    page.locator("#error-layer").filter(has_text="first layer").wait_for()
    assert page.locator("#error-diversity").inner_text() == ""
    assert Job.objects.count() == 0
