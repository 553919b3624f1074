"""Issue 8, acceptance 1, through the API: grow a circuit of 6 units across 3 layers from one
unit (its weights computed by a worker's connections job, issue 17), edit it under If-Match,
comment on it, propose and accept a hypothesis about it, release and export it; the JSON export
imported into another project exports the same document, ids and timestamps excepted."""

import json

import jsonschema
import pytest

from annotations.models import Circuit, Role
from annotations.services.projects import project_network_link
from tests.annotations.circuits.conftest import (
    PROJECT,
    client_for,
    if_match,
    post_after_the_worker,
)
from tests.annotations.exports.conftest import SCHEMA, comparable
from tests.factories.annotations import MembershipFactory, ProjectFactory
from workers.models import Job

pytestmark = pytest.mark.django_db


def _download(client, path):
    response = client.get(path)
    assert response.status_code == 200
    document = json.loads(b"".join(response.streaming_content))
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return document


def _grow(client, circuit, response, node, k):
    """Grow by inputs; the weights are computed by a worker's connections job in between."""
    return post_after_the_worker(
        client,
        f"{PROJECT}/circuits/{circuit}/grow/",
        {"node": node, "direction": "inputs", "k": k},
        **if_match(response),
    )


def test_a_grown_circuit_goes_through_review_release_export_and_import(project, members, mobilenet):
    annotator = client_for(members[Role.ANNOTATOR])
    created = annotator.post(
        f"{PROJECT}/circuits/",
        {"network": "mobilenet", "name": "Expansion seed", "description": "A *first* look."},
        format="json",
    )
    assert created.status_code == 201
    circuit = created.json()["id"]
    seeded = annotator.post(
        f"{PROJECT}/circuits/{circuit}/nodes/",
        {"unit": "features.2.expand:0", "role": "where it starts"},
        format="json",
        **if_match(created),
    )
    assert seeded.status_code == 201
    grown = _grow(annotator, circuit, seeded, seeded.json()["nodes"][0]["id"], k=2)
    assert grown.status_code == 200
    inputs = [node for node in grown.json()["nodes"] if node["layer"] == "features.1"]
    grown = _grow(annotator, circuit, grown, inputs[0]["id"], k=3)

    body = grown.json()
    assert grown.status_code == 200
    assert len(body["nodes"]) == 6
    assert sorted({node["layer"] for node in body["nodes"]}) == [
        "features.1",
        "features.1.depthwise",
        "features.2.expand",
    ]
    assert len(body["edges"]) == 5
    assert {edge["kind"] for edge in body["edges"]} == {"direct"}
    assert sorted(
        Job.objects.filter(kind="connections", status="succeeded").values_list(
            "layer__name", "params__source_layer"
        )
    ) == [("features.1", "features.1.depthwise"), ("features.2.expand", "features.1")]

    stale = annotator.patch(
        f"{PROJECT}/circuits/{circuit}/",
        {"name": "Too late"},
        format="json",
        **if_match(created),
    )
    assert (stale.status_code, stale.json()["code"]) == (412, "version_conflict")
    assert Circuit.objects.get(pk=circuit).name == "Expansion seed"
    edited = annotator.patch(
        f"{PROJECT}/circuits/{circuit}/",
        {"name": "Expansion unit 0", "description": "Its **inputs**, two layers deep."},
        format="json",
        **if_match(grown),
    )
    assert edited.status_code == 200
    assert edited["ETag"] == f'"{grown.json()["version"] + 1}"'

    commented = annotator.post(
        f"{PROJECT}/comments/",
        {"target_type": "circuit", "target_id": str(circuit), "body": "Mostly one input."},
        format="json",
    )
    assert commented.status_code == 201
    proposed = annotator.post(
        f"{PROJECT}/hypotheses/",
        {"network": "mobilenet", "title": "A one-input unit", "circuit": circuit},
        format="json",
    )
    assert (proposed.status_code, proposed.json()["circuit"]["id"]) == (201, circuit)
    hypothesis = proposed.json()["id"]
    approved = client_for(members[Role.REVIEWER]).post(
        f"{PROJECT}/hypotheses/{hypothesis}/reviews/",
        {"verdict": "approve"},
        format="json",
        **if_match(proposed),
    )
    assert approved.status_code == 201
    assert approved.json()["status"] == "accepted"

    owner = client_for(members[Role.OWNER])
    assert owner.post(f"{PROJECT}/releases/", {"name": "v1"}, format="json").status_code == 201
    released = _download(owner, f"{PROJECT}/releases/v1/exports/json/")
    live = _download(owner, f"{PROJECT}/exports/json/")
    discussed = _download(owner, f"{PROJECT}/exports/json/?comments=true")

    assert released["circuits"] == live["circuits"]
    [document] = live["circuits"]
    assert (document["name"], len(document["nodes"]), len(document["edges"])) == (
        "Expansion unit 0",
        6,
        5,
    )
    assert [h["circuit"] for h in live["hypotheses"]] == ["Expansion unit 0"]
    assert [(c["target_type"], c["target"]) for c in discussed["comments"]] == [
        ("circuit", circuit)
    ]

    copy = ProjectFactory(slug="copy")
    project_network_link(project=copy, network=mobilenet, actor=None)
    # The same team: an import names only members of the project it goes into.
    for role, user in members.items():
        MembershipFactory(project=copy, user=user, role=role)
    imported = owner.post(
        "/api/v1/projects/copy/imports/",
        {"network": "mobilenet", "format": "json", "content": json.dumps(live)},
        format="json",
    )
    assert imported.status_code == 200
    assert (imported.json()["circuits_created"], imported.json()["hypotheses_created"]) == (1, 1)
    again = _download(owner, "/api/v1/projects/copy/exports/json/")
    assert comparable(again) == comparable(live)
    history = owner.get(f"{PROJECT}/circuits/{circuit}/history/").json()["results"]
    assert [event["verb"] for event in history] == [
        "circuit.renamed",
        "circuit.grown",
        "circuit.grown",
        "circuit.node_added",
        "circuit.created",
    ]
