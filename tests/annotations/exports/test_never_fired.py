"""Acceptance 3 of issue 19: a unit that never fired on the dataset is marked so in the JSON
export: its layer lists it, and its entry among the assigned units names the dataset."""

import datetime
import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from annotations.services.imports import taxonomy_import
from annotations.services.releases import release_create
from tests.annotations.exports.conftest import comparable, export_document, export_text, join_team
from tests.factories.workers import JobFactory
from workers.models import Artifact

pytestmark = pytest.mark.django_db


def examples_job(network, layer_name, never_fired, *, images=918, dataset="demo", **job):
    """A finished dataset-examples job on the layer whose unit summaries say which units never
    fired (``never_fired``: indices; every other unit fired on 3 images)."""
    layer = network.layers.get(name=layer_name)
    options = {
        "status": "succeeded",
        "timings": {"images_seen": images, "never_fired": len(never_fired)},
        **job,
    }
    job = JobFactory(
        layer=layer,
        kind="dataset_examples",
        params={"dataset": dataset, "k": 10, "crop_size": 64},
        **options,
    )
    for unit in layer.units.all():
        fired = 0 if unit.index in never_fired else 3
        Artifact.objects.create(
            job=job,
            network=network,
            layer=layer,
            unit=unit,
            kind="unit_json",
            file=default_storage.save("export-test/unit.json", ContentFile(b"{}")),
            content_type="application/json",
            sha256="0" * 64,
            code_version="test",
            meta={
                "fired_on": {
                    "dataset": dataset,
                    "images": fired,
                    "of": images,
                    "never_fired": fired == 0,
                }
            },
        )
    return job


def layers_of(document):
    return {layer["name"]: layer.get("never_fired") for layer in document["layers"]}


def test_the_export_lists_each_layers_units_that_never_fired(project, network, taxonomy):
    examples_job(network, "conv2d0", {5, 2})

    document = export_document(project, network)

    assert layers_of(document) == {
        "conv2d0": {"dataset": "demo", "of": 918, "units": [2, 5]},
        "conv2d1": None,
        "mixed3b": None,
    }


def test_an_assigned_unit_that_never_fired_names_the_dataset(project, network, taxonomy):
    examples_job(network, "conv2d0", {2, 5})

    document = export_document(project, network)

    marks = {
        (unit["layer"], unit["unit"]): unit.get("never_fired_on") for unit in document["units"]
    }
    assert marks[("conv2d0", 2)] == "demo"
    assert marks[("conv2d0", 1)] is None
    assert [key for key, mark in marks.items() if mark] == [("conv2d0", 2)]


def test_the_newest_finished_job_of_a_layer_speaks_for_it(project, network, taxonomy):
    old = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    examples_job(network, "conv2d0", {1}, dataset="old", created_at=old)
    examples_job(network, "conv2d0", {2}, dataset="photos", images=40)
    examples_job(network, "conv2d0", {3}, status="failed")

    document = export_document(project, network)

    assert layers_of(document)["conv2d0"] == {"dataset": "photos", "of": 40, "units": [2]}


def test_a_job_from_before_the_firing_counts_marks_nothing(project, network, taxonomy):
    examples_job(network, "conv2d1", {0}, timings={"images_seen": 257})

    document = export_document(project, network)

    assert layers_of(document)["conv2d1"] is None
    assert not any("never_fired_on" in unit for unit in document["units"])


def test_without_dataset_examples_the_document_is_unchanged(project, network, taxonomy):
    document = export_document(project, network)

    assert set(layers_of(document).values()) == {None}
    assert not any("never_fired_on" in unit for unit in document["units"])


def test_a_release_export_marks_the_units_too(project, network, owner, taxonomy):
    examples_job(network, "conv2d0", {2})
    release = release_create(project=project, actor=owner, name="v1")

    document = export_document(project, network, release=release)

    assert layers_of(document)["conv2d0"]["units"] == [2]


def test_a_document_with_the_marks_imports_as_the_taxonomy_it_holds(
    project, new_project, network, owner, taxonomy
):
    examples_job(network, "conv2d0", {2, 7})
    exported = export_text(project, network, "json")
    assert '"never_fired_on": "demo"' in exported
    join_team(source=project, target=new_project)

    taxonomy_import(
        project=new_project, network=network, actor=owner, format="json", content=exported
    )

    assert comparable(export_document(new_project, network)) == comparable(json.loads(exported))
