"""Dataset examples shown honestly and looked at closely: strongest first, a unit that never
fired marked on its card and in the grid, the activation histogram with the shown examples
marked, and any picture enlarged in a dialog that Esc closes."""

import json

import pytest

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import JobFactory, LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import pattern_tile, rendered_units, screenshot
from workers.engine.images import encode_png
from workers.models import Artifact, Job
from workers.renderers.common import add_layer_sprite
from workers.services.artifacts import ArtifactBatch

pytestmark = pytest.mark.django_db(transaction=True)

IMAGES = 918


def examined_layer(layer, fired):
    """A dataset-examples job on the demo set as the worker stores it: per unit its strips
    (strongest first), summary, distribution and firing count; the layer's sprite and index
    with each unit's count. ``fired``: {unit index: images it fired on}."""
    job = JobFactory(
        layer=layer,
        kind=Job.Kind.DATASET_EXAMPLES,
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        params={"dataset": "demo", "k": 3, "crop_size": 64},
    )
    batch = ArtifactBatch(job)
    tiles = {}
    for unit in layer.units.all():
        count = fired[unit.index]
        fired_on = {"dataset": "demo", "images": count, "of": IMAGES, "never_fired": count == 0}
        top = [3.5, 2.25, 1.75] if count else [0.0, 0.0, 0.0]
        bottom = [0.0, 0.0, 0.0]
        summary = {"unit": f"{layer.name}:{unit.index}", "dataset": "demo", "fired_on": fired_on}
        for variant, values in (("top", top), ("bottom", bottom)):
            summary[variant] = [
                {"image": f"photo_{at}.png", "value": value, "field_in_crop": [24, 24, 40, 40]}
                for at, value in enumerate(values)
            ]
            strip = pattern_tile(unit.index * 10 + len(variant), 64)
            tiles.setdefault(unit.index, strip)
            batch.add(
                unit=unit,
                kind=Artifact.Kind.UNIT_IMAGE,
                variant=variant,
                filename=f"unit_{unit.index:05d}_{variant}.png",
                content=encode_png(strip),
                content_type="image/png",
                meta={"best": values[0], "never_fired": count == 0},
            )
        batch.add(
            unit=unit,
            kind=Artifact.Kind.UNIT_JSON,
            filename=f"unit_{unit.index:05d}.json",
            content=json.dumps(summary).encode(),
            content_type="application/json",
            meta={"fired_on": fired_on},
        )
        distribution = {
            "quantity": "spatial maximum of the unit's activation per image",
            "images": IMAGES,
            "bins": 4,
            "low": 0.0,
            "high": 4.0 if count else 0.0,
            "counts": [IMAGES - count, count // 2, count - count // 2, 0],
            "top": top,
            "bottom": bottom,
            "classes": None,
        }
        batch.add(
            unit=unit,
            kind=Artifact.Kind.UNIT_JSON,
            variant="distribution",
            filename=f"unit_{unit.index:05d}_distribution.json",
            content=json.dumps(distribution).encode(),
            content_type="application/json",
            meta=distribution,
        )
    add_layer_sprite(
        job,
        batch,
        tiles,
        index_fields={"fired_on": {"dataset": "demo", "of": IMAGES}},
        unit_fields={index: {"fired": count} for index, count in fired.items()},
    )
    batch.commit()
    return job


@pytest.fixture
def ada():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=6, order=5)
    examined_layer(layer, {0: 212, 1: 0, 2: 40, 3: 5, 4: 0, 5: 90})
    rendered_units(layer, [2])
    return MembershipFactory(project=project, role=Role.VIEWER, user__username="ada").user


def test_a_unit_that_never_fired_is_marked_on_its_card_and_in_the_grid(browse, ada):
    page = browse(ada)

    page.goto("/p/early-vision/units/inceptionv1/mixed3b:1/")
    page.wait_for_selector("#unit-page[data-ready=true]")

    assert page.locator("#never-fired").inner_text() == "never fired on demo"
    assert (
        "Never fired on demo (0 of 918 images)"
        in page.locator("#examples .never-fired").inner_text()
    )
    screenshot(page, "unit-card-never-fired")
    page.goto("/p/early-vision/grid/inceptionv1/mixed3b/")
    page.wait_for_selector("#grid-page[data-ready=true]")
    silent = page.locator(".tile.never-fired")
    assert [tile.get_attribute("data-index") for tile in silent.all()] == ["1", "4"]
    assert "never fired on demo (0 of 918 images)" in page.locator("#unit-1").get_attribute(
        "aria-label"
    )
    assert "never fired" not in page.locator("#unit-0").get_attribute("aria-label")
    assert "2 never fired on demo" in page.locator("#grid-summary").inner_text()
    page.get_by_label("Show status").select_option("never_fired")
    assert [
        tile.get_attribute("data-index") for tile in page.locator(".tile:not([hidden])").all()
    ] == ["1", "4"]


def test_a_unit_that_fired_shows_its_strongest_examples_first_and_its_histogram(browse, ada):
    page = browse(ada)

    page.goto("/p/early-vision/units/inceptionv1/mixed3b:0/")
    page.wait_for_selector("#unit-page[data-ready=true]")

    captions = page.locator("#examples figure:not(.distribution) figcaption").all_inner_texts()
    assert [caption.split(" · ")[0] for caption in captions] == [
        "strongest activations",
        "weakest activations",
    ]
    assert captions[0].startswith("strongest activations · best 3.50")
    assert page.locator("#never-fired").count() == 0
    assert page.locator("#examples .never-fired").count() == 0
    assert page.locator("#examples .fired-on").inner_text() == "fired on 212 of 918 images (demo)"
    histogram = page.locator("#examples svg.histogram")
    assert histogram.locator("rect.hist-bar").count() == 4
    assert histogram.locator("line.hist-mark.top").count() == 3
    assert "918 images" in histogram.get_attribute("aria-label")


def test_a_picture_opens_enlarged_with_its_values_and_esc_closes_it(browse, ada):
    page = browse(ada)
    page.goto("/p/early-vision/units/inceptionv1/mixed3b:2/")
    page.wait_for_selector("#unit-page[data-ready=true]")
    opener = page.get_by_role(
        "button", name="Enlarge: mixed3b:2 strongest activations", exact=False
    )

    opener.focus()
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert "mixed3b:2 strongest activations" in dialog.locator("h2").inner_text()
    assert "1. photo_0.png" in dialog.locator(".lightbox-values").inner_text()
    assert dialog.locator("img").evaluate("(image) => image.naturalWidth > 0 && image.complete")
    screenshot(page, "unit-card-enlarged")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert opener.evaluate("(button) => document.activeElement === button")

    page.get_by_role("button", name="Enlarge: mixed3b:2 positive", exact=False).click()
    dialog.wait_for()
    assert "objective" in dialog.locator(".lightbox-values").inner_text()
    page.get_by_role("button", name="Close").click()
    dialog.wait_for(state="hidden")
