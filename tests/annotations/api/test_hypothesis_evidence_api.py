"""A hypothesis with three kinds of evidence through propose → review → accept over the API: the
detail lists the evidence, the acceptance credits the author as one feed entry, and the
exports (JSON, CSV) name the evidence and the author."""

import csv
import io
import json

import pytest
from rest_framework.test import APIClient

from annotations.models import Group, Role
from tests.factories.annotations import (
    CircuitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import JobFactory, LayerFactory
from workers.models import Artifact

pytestmark = pytest.mark.django_db

PROJECT = "/api/v1/projects/curves/"


@pytest.fixture
def project():
    return ProjectFactory(slug="curves", required_approvals=1)


@pytest.fixture
def layer(project):
    layer = LayerFactory(network__name="inceptionv1", name="mixed3b", channels=4)
    ProjectNetworkFactory(project=project, network=layer.network)
    return layer


@pytest.fixture
def people(project):
    return {
        name: MembershipFactory(project=project, user__username=name, role=role).user
        for name, role in [("ada", Role.ANNOTATOR), ("rev", Role.REVIEWER)]
    }


def _as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _artifact(layer, index, kind, variant):
    return Artifact.objects.create(
        job=JobFactory(layer=layer, kind=kind),
        network=layer.network,
        layer=layer,
        unit=layer.units.get(index=index),
        kind=Artifact.Kind.UNIT_IMAGE,
        variant=variant,
        file=f"{kind}.png",
        content_type="image/png",
        sha256="0" * 64,
        code_version="test",
    )


@pytest.fixture
def accepted(project, layer, people):
    """A hypothesis with a visualization, dataset examples and a circuit as evidence, proposed
    by ada and accepted by rev: its id and its evidence."""
    curves = Group.objects.create(project=project, name="Curves")
    picture = _artifact(layer, 1, "feature_visualization", "positive")
    examples = _artifact(layer, 2, "dataset_examples", "top")
    circuit = CircuitFactory(project=project, network=layer.network, name="Curve circuit")
    created = _as(people["ada"]).post(
        f"{PROJECT}hypotheses/",
        {
            "network": "inceptionv1",
            "title": "Curve detectors",
            "units": ["mixed3b:1", "mixed3b:2"],
            "proposed_group": curves.pk,
            "evidence": [picture.pk, examples.pk],
            "evidence_circuits": [circuit.pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    hypothesis_id = created.json()["id"]
    reviewed = _as(people["rev"]).post(
        f"{PROJECT}hypotheses/{hypothesis_id}/reviews/",
        {"verdict": "approve"},
        format="json",
        headers={"If-Match": '"1"'},
    )
    assert reviewed.status_code == 201, reviewed.json()
    return hypothesis_id, picture, examples, circuit


def test_the_accepted_hypothesis_lists_its_three_kinds_of_evidence(people, accepted):
    hypothesis_id, picture, examples, circuit = accepted

    body = _as(people["rev"]).get(f"{PROJECT}hypotheses/{hypothesis_id}/").json()

    assert body["status"] == "accepted"
    assert (body["evidence"], body["evidence_circuits"]) == (
        [picture.pk, examples.pk],
        [circuit.pk],
    )
    assert [
        (item["kind"], item["unit"], item["url"], item["caption"])
        for item in body["evidence_items"]
    ] == [
        (
            "feature_visualization",
            "mixed3b:1",
            f"/api/v1/artifacts/{picture.pk}/download/",
            "mixed3b:1 · feature visualization (positive)",
        ),
        (
            "dataset_examples",
            "mixed3b:2",
            f"/api/v1/artifacts/{examples.pk}/download/",
            "mixed3b:2 · dataset examples (top)",
        ),
        (
            "circuit",
            None,
            f"/api/v1/projects/curves/circuits/{circuit.pk}/diagram.svg",
            "circuit Curve circuit",
        ),
    ]


def test_evidence_of_a_unit_outside_the_hypothesis_is_a_422(layer, people):
    other = _artifact(layer, 3, "weights", "incoming")

    response = _as(people["ada"]).post(
        f"{PROJECT}hypotheses/",
        {
            "network": "inceptionv1",
            "title": "Curves",
            "units": ["mixed3b:1"],
            "evidence": [other.pk],
        },
        format="json",
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {
        "evidence": [f"Artifact {other.pk} is of mixed3b:3, not of this hypothesis' units."]
    }


def test_the_acceptance_is_one_feed_entry_crediting_the_author(people, accepted):
    hypothesis_id, *_ = accepted

    feed = _as(people["rev"]).get(f"{PROJECT}events/").json()["results"]

    assert [(event["verb"], event["actor"]) for event in feed] == [
        ("hypothesis.accepted", "ada"),
        ("hypothesis.reviewed", "rev"),
        ("hypothesis.created", "ada"),
    ]
    accepted_event = feed[0]
    assert (accepted_event["target_id"], accepted_event["after"]["approvers"]) == (
        hypothesis_id,
        ["rev"],
    )


def test_the_ungrouped_feed_and_the_units_history_keep_one_event_per_unit(layer, people, accepted):
    client = _as(people["rev"])
    unit = layer.units.get(index=1)

    every = client.get(f"{PROJECT}events/", {"grouped": "false"}).json()["results"]
    history = client.get(f"{PROJECT}history/unit/{unit.pk}/").json()["results"]

    assert [event["verb"] for event in every].count("unit.assigned") == 2
    assert [(event["verb"], event["actor"], event["after"]["approvers"]) for event in history] == [
        ("unit.assigned", "ada", ["rev"])
    ]


def test_the_exports_name_the_evidence_and_credit_the_author(people, accepted):
    client = _as(people["rev"])

    document = json.loads(
        b"".join(client.get(f"{PROJECT}exports/json/").streaming_content).decode()
    )
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(
                    client.get(f"{PROJECT}exports/csv/", HTTP_ACCEPT="text/csv").streaming_content
                ).decode()
            )
        )
    )

    (hypothesis,) = document["hypotheses"]
    assert hypothesis["evidence_circuits"] == ["Curve circuit"]
    assert [
        (item["kind"], item["unit"], item["circuit"], item["caption"])
        for item in hypothesis["evidence_items"]
    ] == [
        (
            "feature_visualization",
            "mixed3b:1",
            None,
            "mixed3b:1 · feature visualization (positive)",
        ),
        ("dataset_examples", "mixed3b:2", None, "mixed3b:2 · dataset examples (top)"),
        ("circuit", None, "Curve circuit", "circuit Curve circuit"),
    ]
    assert [(row["unit"], row["changed_by"]) for row in rows if row["group_path"]] == [
        ("1", "ada"),
        ("2", "ada"),
    ]
