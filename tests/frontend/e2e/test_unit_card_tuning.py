"""The unit card shows a tuning job's plot, enlarged in the lightbox, and a table of each
family's preferred stimulus and selectivity index."""

import json

import pytest

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import JobFactory, LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import pattern_tile
from workers.engine.images import encode_png
from workers.models import Artifact, Job
from workers.services.artifacts import ArtifactBatch

pytestmark = pytest.mark.django_db(transaction=True)

META = {
    "line": {
        "preferred": {"angle": 45.0, "length": 0.6},
        "index": "circular_variance",
        "selectivity": 0.2126,
    },
    "color": {
        "preferred": {"hue": 120.0},
        "index": "peak_selectivity",
        "selectivity": 0.8,
    },
}
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10"/></svg>'


def tuned_unit(layer, index):
    """A tuning job's artifacts for one unit, shaped as workers/renderers/tuning.py writes them."""
    job = JobFactory(
        layer=layer,
        kind=Job.Kind.TUNING,
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        params={"families": "line,color", "angle_step": 15.0},
    )
    unit = layer.units.get(index=index)
    batch = ArtifactBatch(job)
    batch.add(
        unit=unit,
        kind=Artifact.Kind.UNIT_JSON,
        filename=f"unit_{index:05d}.json",
        content=json.dumps({"unit": f"{layer.name}:{index}", "families": {}}).encode(),
        content_type="application/json",
        meta=META,
    )
    for variant, content, content_type, suffix in (
        ("tuning", encode_png(pattern_tile(index, 96)), "image/png", "png"),
        ("tuning-svg", SVG, "image/svg+xml", "svg"),
    ):
        batch.add(
            unit=unit,
            kind=Artifact.Kind.UNIT_IMAGE,
            variant=variant,
            filename=f"unit_{index:05d}_tuning.{suffix}",
            content=content,
            content_type=content_type,
        )
    batch.commit()
    return job


@pytest.fixture
def ada():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=4, order=5)
    tuned_unit(layer, 2)
    return MembershipFactory(project=project, role=Role.VIEWER, user__username="ada").user


def test_the_unit_card_shows_the_tuning_plot_and_table(browse, ada):
    job = Job.objects.get(kind=Job.Kind.TUNING)
    page = browse(ada)
    page.goto("/p/early-vision/units/inceptionv1/mixed3b:2/")
    page.wait_for_selector("#unit-page[data-ready=true]")
    page.locator("#tuning .tuning-table").wait_for()

    rows = page.locator("#tuning .tuning-table tbody tr").all_inner_texts()
    assert [row.split("\t") for row in rows] == [
        ["line", "angle 45, length 0.6", "circular variance", "0.213"],
        ["color", "hue 120", "peak selectivity", "0.8"],
    ]
    assert f"job #{job.pk}" in page.locator("#tuning figcaption").inner_text()
    svg_link = page.locator("#tuning figcaption a", has_text="SVG")
    assert svg_link.get_attribute("href").endswith("/download/")

    opener = page.get_by_role("button", name="Enlarge: mixed3b:2 tuning curves", exact=False)
    opener.click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert "mixed3b:2 tuning curves" in dialog.locator("h2").inner_text()
    assert "selectivity 0.213" in dialog.locator(".lightbox-values").inner_text()
    assert dialog.locator("img").evaluate("(image) => image.naturalWidth > 0 && image.complete")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")


def test_a_unit_without_a_tuning_job_says_so(browse, ada):
    page = browse(ada)
    page.goto("/p/early-vision/units/inceptionv1/mixed3b:1/")
    page.wait_for_selector("#unit-page[data-ready=true]")
    assert "No tuning job" in page.locator("#tuning").inner_text()
