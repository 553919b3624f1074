"""The simple CSV names groups by path (issue 20, part 2): a per-layer taxonomy with a parent
group per layer and the same group names under several parents, each with its own description,
imports from one file and exports back with every unit under its path and every description
exact; a slash inside a name is escaped; a parent the file and the project lack is created."""

import csv
import io
import json

import pytest

from annotations.models import Assignment, Group, Role
from annotations.services.imports import taxonomy_import
from tests.annotations.exports.conftest import export_text
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory

pytestmark = pytest.mark.django_db

LAYERS = ["conv2d0", "conv2d1", "conv2d2", "mixed3a", "mixed3b"]
# (layer, unit, group, parent_group, description): a parent group per layer, "Color Contrast"
# under three layers and "Curves" under two, each with a description of its own, and a group
# two levels below its layer's parent, written as a path in parent_group.
ROWS = [
    ("conv2d0", 0, "conv2d0", "", "Gabor filters and color blobs."),
    ("conv2d0", 1, "Color Contrast", "conv2d0", "Two colors side by side, at 7x7."),
    ("conv2d0", 2, "Color Contrast", "conv2d0", ""),
    ("conv2d1", 0, "conv2d1", "", "Complex Gabor filters."),
    ("conv2d1", 3, "Color Contrast", "conv2d1", "Opponent colors, one inside the other."),
    ("conv2d2", 4, "Color Contrast", "conv2d2", "Color contrast at several orientations."),
    ("conv2d2", 5, "Line detectors", "conv2d2", "Short lines."),
    ("mixed3a", 6, "Curves", "mixed3a", "Early curves: small, coarse."),
    ("mixed3a", 7, "mixed3a", "", "The first mixed layer."),
    ("mixed3b", 8, "Curves", "mixed3b", "Curve detectors of every orientation."),
    ("mixed3b", 9, "Curves facing left", "mixed3b / Curves", "Curves open to the right."),
    ("mixed3b", 10, "mixed3b", "", "The second mixed layer."),
]
EXPECTED_DESCRIPTIONS = {
    ("conv2d0",): "Gabor filters and color blobs.",
    ("conv2d0", "Color Contrast"): "Two colors side by side, at 7x7.",
    ("conv2d1",): "Complex Gabor filters.",
    ("conv2d1", "Color Contrast"): "Opponent colors, one inside the other.",
    ("conv2d2",): "",
    ("conv2d2", "Color Contrast"): "Color contrast at several orientations.",
    ("conv2d2", "Line detectors"): "Short lines.",
    ("mixed3a",): "The first mixed layer.",
    ("mixed3a", "Curves"): "Early curves: small, coarse.",
    ("mixed3b",): "The second mixed layer.",
    ("mixed3b", "Curves"): "Curve detectors of every orientation.",
    ("mixed3b", "Curves", "Curves facing left"): "Curves open to the right.",
}
EXPECTED_UNITS = {
    ("conv2d0", 0): "conv2d0",
    ("conv2d0", 1): "conv2d0 / Color Contrast",
    ("conv2d0", 2): "conv2d0 / Color Contrast",
    ("conv2d1", 0): "conv2d1",
    ("conv2d1", 3): "conv2d1 / Color Contrast",
    ("conv2d2", 4): "conv2d2 / Color Contrast",
    ("conv2d2", 5): "conv2d2 / Line detectors",
    ("mixed3a", 6): "mixed3a / Curves",
    ("mixed3a", 7): "mixed3a",
    ("mixed3b", 8): "mixed3b / Curves",
    ("mixed3b", 9): "mixed3b / Curves / Curves facing left",
    ("mixed3b", 10): "mixed3b",
}


def simple_csv(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["layer", "unit", "group", "parent_group", "description"])
    writer.writerows(rows)
    return buffer.getvalue()


def labelled(csv_export):
    """{(layer, unit): group_path} of the labelled rows of a CSV export."""
    return {
        (row["layer"], int(row["unit"])): row["group_path"]
        for row in csv.DictReader(io.StringIO(csv_export))
        if row["group_path"]
    }


def descriptions(project, network):
    """{path: description} of every group, from the JSON export."""
    document = json.loads(export_text(project, network, "json"))
    return {tuple(group["path"]): group["description"] for group in document["groups"]}


@pytest.fixture
def network():
    network = NetworkFactory(name="inception", arch="inception_v1", random_seed=0)
    for order, name in enumerate(LAYERS):
        LayerFactory(network=network, name=name, order=order, channels=16)
    return network


@pytest.fixture
def owner():
    return MembershipFactory(role=Role.OWNER, user__username="ada").user


def new_project(network, owner, slug):
    project = ProjectFactory(slug=slug, name=slug)
    ProjectNetworkFactory(project=project, network=network)
    MembershipFactory(project=project, user=owner, role=Role.OWNER)
    return project


@pytest.fixture
def project(network, owner):
    return new_project(network, owner, "early-vision")


def run(project, network, owner, content, **options):
    return taxonomy_import(
        project=project, network=network, actor=owner, format="csv", content=content, **options
    )


def test_a_five_layer_taxonomy_with_repeated_names_imports_and_exports_exactly(
    project, network, owner
):
    report = run(project, network, owner, simple_csv(ROWS))

    assert report["units_assigned"] == len(ROWS)
    assert descriptions(project, network) == EXPECTED_DESCRIPTIONS
    assert labelled(export_text(project, network, "csv")) == EXPECTED_UNITS


def test_the_csv_export_of_that_taxonomy_imports_into_another_project_unchanged(
    project, network, owner
):
    run(project, network, owner, simple_csv(ROWS))
    copy = new_project(network, owner, "copy")

    run(copy, network, owner, export_text(project, network, "csv"))

    assert labelled(export_text(copy, network, "csv")) == EXPECTED_UNITS
    assert set(descriptions(copy, network)) == set(EXPECTED_DESCRIPTIONS)


def test_the_issues_file_is_accepted_with_three_groups_of_one_name(project, network, owner):
    content = simple_csv(
        [
            ("conv2d0", 1, "Color Contrast", "conv2d0", "In conv2d0."),
            ("conv2d0", 2, "Color Contrast", "conv2d0", ""),
            ("conv2d1", 3, "Color Contrast", "conv2d1", "In conv2d1."),
            ("conv2d2", 4, "Color Contrast", "conv2d2", "In conv2d2."),
        ]
    )

    report = run(project, network, owner, content)

    assert "collides" not in json.dumps(report)
    assert sorted(
        Group.objects.filter(name="Color Contrast").values_list("parent__name", "description")
    ) == [("conv2d0", "In conv2d0."), ("conv2d1", "In conv2d1."), ("conv2d2", "In conv2d2.")]


def test_a_full_path_in_the_group_column_is_the_same_group_as_parent_and_name(
    project, network, owner
):
    content = simple_csv(
        [
            ("mixed3b", 0, "Curves", "mixed3b", "Curve detectors."),
            ("mixed3b", 1, "mixed3b / Curves", "", ""),
            ("mixed3b", 2, "Curves", "", ""),
        ]
    )

    report = run(project, network, owner, content)

    assert report["groups_created"] == ["mixed3b", "mixed3b / Curves"]
    curves = Group.objects.get(name="Curves")
    assert list(Assignment.objects.order_by("unit__index").values_list("unit__index", "group")) == [
        (0, curves.pk),
        (1, curves.pk),
        (2, curves.pk),
    ]


def test_a_name_the_project_has_under_another_parent_makes_a_new_group(project, network, owner):
    existing = GroupFactory(project=project, name="Curves", description="Round lines.")

    report = run(project, network, owner, simple_csv([("mixed3b", 0, "Curves", "mixed3b", "")]))

    assert report["groups_created"] == ["mixed3b", "mixed3b / Curves"]
    assert Group.objects.get(pk=existing.pk).parent is None
    assert Assignment.objects.get().group.parent.name == "mixed3b"


def test_a_parent_path_neither_file_nor_project_has_is_created(project, network, owner):
    content = simple_csv([("mixed3b", 0, "Curves", "Shapes / Round shapes", "Round lines.")])

    report = run(project, network, owner, content)

    assert report["groups_created"] == [
        "Shapes",
        "Shapes / Round shapes",
        "Shapes / Round shapes / Curves",
    ]
    assert Group.objects.get(name="Curves").description == "Round lines."


def test_an_escaped_slash_makes_one_group_whose_name_holds_it(project, network, owner):
    content = simple_csv([("conv2d0", 0, "Red \\/ green", "conv2d0", "Opponent colors.")])

    report = run(project, network, owner, content)

    assert report["groups_created"] == ["conv2d0", "conv2d0 / Red \\/ green"]
    assert Group.objects.get(parent__name="conv2d0").name == "Red / green"


def test_a_name_with_a_spaced_slash_round_trips_through_the_csv_export(project, network, owner):
    red_green = GroupFactory(project=project, name="Red / green")
    AssignmentFactory(
        project=project, group=red_green, unit=network.units.get(layer__name="conv2d0", index=0)
    )
    exported = export_text(project, network, "csv")

    report = run(project, network, owner, exported)

    assert labelled(exported) == {("conv2d0", 0): "Red \\/ green"}
    assert (report["changed"], report["groups_created"]) == (False, [])
    assert list(Group.objects.values_list("name", flat=True)) == ["Red / green"]
