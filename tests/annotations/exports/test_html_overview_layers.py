"""The HTML overview links each unit to its page in the pages and leaves out the layers with
no group and no rendering."""

import re

import numpy as np
import pytest

from annotations.services.releases import release_create
from tests.annotations.exports.conftest import export_text
from tests.factories.annotations import AssignmentFactory, GroupFactory
from tests.factories.workers import JobFactory, LayerFactory
from workers.models import Job
from workers.renderers.common import add_layer_sprite
from workers.services.artifacts import ArtifactBatch

pytestmark = pytest.mark.django_db


def _render(layer, kind=Job.Kind.FEATURE_VISUALIZATION):
    job = JobFactory(layer=layer, kind=kind, status=Job.Status.SUCCEEDED, params={"thumbnail": 8})
    batch = ArtifactBatch(job)
    add_layer_sprite(job, batch, {0: np.zeros((8, 8, 3), np.uint8)})
    batch.commit()


def _sections(page):
    return re.findall(r'<section class="layer" id="layer-([^"]+)">', page)


def _contents(page):
    return re.findall(r'<li><a href="#layer-([^"]+)">', page)


@pytest.fixture
def deep(network):
    """Two more layers at the end of the network, with nothing in them yet."""
    for order, name in ((3, "mixed4a"), (4, "mixed4b")):
        LayerFactory(network=network, name=name, order=order, channels=4)
    return network


def test_units_link_to_their_page_not_the_api(network, project, taxonomy):
    page = export_text(project, network, "html", base_url="https://atlas.example/")

    links = set(re.findall(r'class="unit[^"]*"[^>]*href="([^"]+)"', page))
    assert "https://atlas.example/p/early-vision/units/inception/mixed3b:0/" in links
    assert "https://atlas.example/p/early-vision/units/inception/conv2d0:1/" in links
    assert not [link for link in links if "/api/" in link]


def test_layers_with_no_group_and_no_rendering_are_left_out(deep, project, taxonomy):
    page = export_text(project, deep, "html")

    assert _sections(page) == ["conv2d0", "conv2d1", "mixed3b"]
    assert _contents(page) == ["conv2d0", "conv2d1", "mixed3b"]


def test_a_rendered_layer_without_groups_is_shown(deep, project, taxonomy):
    _render(deep.layers.get(name="mixed4b"))

    page = export_text(project, deep, "html")

    assert _sections(page) == ["conv2d0", "conv2d1", "mixed3b", "mixed4b"]
    assert _contents(page) == ["conv2d0", "conv2d1", "mixed3b", "mixed4b"]


def test_a_layer_with_only_dataset_examples_is_not_counted_as_rendered(deep, project, taxonomy):
    _render(deep.layers.get(name="mixed4b"), kind=Job.Kind.DATASET_EXAMPLES)

    assert _sections(export_text(project, deep, "html")) == ["conv2d0", "conv2d1", "mixed3b"]


def test_a_group_scoped_to_an_empty_layer_keeps_the_layer(deep, project):
    GroupFactory(project=project, name="Late", layer=deep.layers.get(name="mixed4a"))

    assert _sections(export_text(project, deep, "html")) == ["mixed4a"]


def test_a_release_shows_the_layers_its_taxonomy_used(deep, project, owner):
    group = GroupFactory(project=project, name="Curves")
    AssignmentFactory(
        project=project, group=group, unit=deep.units.get(layer__name="mixed4b", index=2)
    )
    release = release_create(project=project, actor=owner, name="v1", notes="")
    AssignmentFactory(
        project=project, group=group, unit=deep.units.get(layer__name="conv2d0", index=0)
    )

    page = export_text(project, deep, "html", release=release)

    assert _sections(page) == ["mixed4b"]
