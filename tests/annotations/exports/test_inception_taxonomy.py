"""Acceptance 2: 77 groups over the 1,056 units of InceptionV1's first five layers, made through
the simple-CSV import, export exactly, and the HTML overview shows each layer with its groups."""

import csv
import io
import re

import pytest

from annotations.models import Assignment, Group, Role
from annotations.services.imports import taxonomy_import
from tests.annotations.exports.conftest import export_document, export_text
from tests.factories.annotations import (
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db

# Families per layer (77 groups: five unscoped parents and 72 families under them).
LAYERS = {"conv2d0": 8, "conv2d1": 10, "conv2d2": 14, "mixed3a": 18, "mixed3b": 22}
CHANNELS = {"conv2d0": 64, "conv2d1": 64, "conv2d2": 192, "mixed3a": 256, "mixed3b": 480}


def family(layer, index):
    """Uneven family sizes, each family used: unit i of n in a layer with k families goes to
    family floor(k * (i / n)^2)."""
    return f"{layer} family {int(LAYERS[layer] * (index / CHANNELS[layer]) ** 2)}"


def expected_paths():
    return {
        (layer, index): f"Early {layer} / {family(layer, index)}"
        for layer, channels in CHANNELS.items()
        for index in range(channels)
    }


def simple_csv(paths):
    buffer = io.StringIO()
    rows = csv.writer(buffer)
    rows.writerow(["layer", "unit", "group", "parent_group", "description"])
    for (layer, index), path in paths.items():
        parent, name = path.split(" / ")
        rows.writerow([layer, index, name, parent, f"Units of {layer} that look alike."])
    return buffer.getvalue()


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """Registered and imported once for the module (about two seconds); the tests only read."""
    with django_db_blocker.unblock():
        inception = network_register(name="inceptionv1", arch="inception_v1", random_seed=0)
        owner = UserFactory()
        project = ProjectFactory(slug="early-vision")
        ProjectNetworkFactory(project=project, network=inception)
        MembershipFactory(project=project, user=owner, role=Role.OWNER)
        report = taxonomy_import(
            project=project,
            network=inception,
            actor=owner,
            format="csv",
            content=simple_csv(expected_paths()),
        )
        yield {"project": project, "inception": inception, "imported": report}
        Assignment.objects.filter(project=project).delete()
        Group.objects.filter(project=project, parent__isnull=False).delete()
        project.delete()
        inception.delete()
        owner.delete()


@pytest.fixture
def project(built):
    return built["project"]


@pytest.fixture
def inception(built):
    return built["inception"]


@pytest.fixture
def imported(built):
    return built["imported"]


@pytest.fixture
def expected():
    return expected_paths()


def test_the_import_creates_77_groups_and_files_all_1056_units(project, imported):
    assert sum(CHANNELS.values()) == 1056
    assert len(imported["groups_created"]) == 77
    assert imported["units_assigned"] == 1056
    assert Group.objects.filter(project=project).count() == 77
    assert Assignment.objects.filter(project=project).count() == 1056


def test_the_json_export_puts_every_unit_in_its_group(project, inception, imported, expected):
    document = export_document(project, inception)

    paths = {group["id"]: " / ".join(group["path"]) for group in document["groups"]}
    exported = {(unit["layer"], unit["unit"]): paths[unit["group"]] for unit in document["units"]}
    assert len(document["groups"]) == 77
    assert exported == expected


def test_the_json_export_counts_each_groups_units_per_layer(project, inception, imported, expected):
    document = export_document(project, inception)

    counts = {}
    for (layer, _), path in expected.items():
        counts.setdefault(path, {}).setdefault(layer, 0)
        counts[path][layer] += 1
    exported = {
        " / ".join(group["path"]): group["unit_counts"]
        for group in document["groups"]
        if len(group["path"]) == 2
    }
    assert exported == counts
    assert [group["unit_counts"] for group in document["groups"] if len(group["path"]) == 1] == [
        {}
    ] * 5


def test_the_csv_export_has_one_row_per_unit_with_its_group(project, inception, imported, expected):
    rows = list(csv.DictReader(io.StringIO(export_text(project, inception, "csv"))))

    inception_units = inception.units.count()
    in_groups = {
        (row["layer"], int(row["unit"])): row["group_path"] for row in rows if row["group_path"]
    }
    assert len(rows) == inception_units
    assert in_groups == expected
    assert {row["status"] for row in rows if row["group_path"]} == {"labelled"}


def test_the_html_overview_shows_each_layer_with_its_groups(project, inception, imported):
    page = export_text(project, inception, "html", base_url="https://atlas.example")

    for layer, families in LAYERS.items():
        section = page.split(f'<section class="layer" id="layer-{layer}">')[1].split(
            '<section class="layer"'
        )[0]
        titles = re.findall(r"</span>(Early [^<]+)</h3>", section)
        sizes = [int(size) for size in re.findall(r'<p class="size">(\d+) units?, ', section)]
        assert len(titles) == families
        assert {title.split(" / ")[1] for title in titles} == {
            f"{layer} family {k}" for k in range(families)
        }
        assert sum(sizes) == CHANNELS[layer]
        assert section.count('class="unit placeholder"') == CHANNELS[layer]
    assert f'href="https://atlas.example/p/{project.slug}/units/inceptionv1/mixed3b:479/"' in page
