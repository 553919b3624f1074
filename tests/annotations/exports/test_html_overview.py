"""The HTML overview: the layer's sprite sheet embedded, each unit's tile linked, placeholders
for units never rendered, group sizes and shares."""

import re

import numpy as np
import pytest

from tests.annotations.exports.conftest import export_text
from tests.factories.workers import JobFactory
from workers.models import Job
from workers.renderers.common import add_layer_sprite
from workers.services.artifacts import ArtifactBatch

pytestmark = pytest.mark.django_db


def render(layer, indices, size=16):
    """A finished feature-visualization job with a sprite sheet of ``indices`` only, written
    by the code a worker uses."""
    job = JobFactory(
        layer=layer,
        kind=Job.Kind.FEATURE_VISUALIZATION,
        status=Job.Status.SUCCEEDED,
        params={"objective": "channel", "thumbnail": size},
    )
    batch = ArtifactBatch(job)
    add_layer_sprite(job, batch, {i: np.full((size, size, 3), i * 9, np.uint8) for i in indices})
    batch.commit()


def test_rendered_units_show_their_tile_and_the_others_a_placeholder(network, project, taxonomy):
    render(network.layers.get(name="mixed3b"), [0, 1, 2])

    page = export_text(project, network, "html")

    section = page.split('id="layer-mixed3b"')[1]
    assert section.count("data:image/png;base64,") == 1
    tiles = re.findall(
        r'class="unit sprite-2" style="background-position: -(\d+)px -(\d+)px"', section
    )
    assert tiles == [("0", "0"), ("17", "0"), ("0", "17")]
    assert re.findall(r'title="(mixed3b:\d+) \(not rendered\)"', section) == [
        "mixed3b:3",
        "mixed3b:11",
    ]


def test_each_group_shows_its_size_and_share_of_the_layer(network, project, taxonomy):
    page = export_text(project, network, "html")

    section = page.split('id="layer-mixed3b"')[1]
    assert "4 units, 33.3% of mixed3b" in section
    assert "1 unit, 8.3% of mixed3b" in section
    assert "12 units; 5 in groups, 7 in none." in section


def test_descriptions_are_rendered_markdown_and_names_escaped(network, project, taxonomy):
    taxonomy["contrast"].name = "<b>Contrast</b>"
    taxonomy["contrast"].save()

    page = export_text(project, network, "html")

    assert "<p><em>Two</em> colors.</p>" in page
    assert "&lt;b&gt;Contrast&lt;/b&gt;" in page
    assert "<b>Contrast</b>" not in page
