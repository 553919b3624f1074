"""The circuit endpoints' contract: ETags and If-Match, the errors a client can act on, and a
fixed number of queries per list. The weights between the layers are stored as a
connections job leaves them (every kernel [[-0.5]])."""

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from annotations.models import Circuit, CircuitNode, Event, Role
from tests.factories.annotations import (
    CircuitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.connections import connections_stored
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db

CIRCUITS = "/api/v1/projects/curves/circuits/"


@pytest.fixture
def project():
    project = ProjectFactory(slug="curves")
    network = ProjectNetworkFactory(project=project, network__name="one").network
    a = LayerFactory(network=network, name="a", order=0)
    b = LayerFactory(network=network, name="b", order=1)
    connections_stored(b, a, np.full((b.channels, a.channels, 1, 1), -0.5))
    return project


@pytest.fixture
def client(project):
    client = APIClient()
    client.force_authenticate(MembershipFactory(project=project, role=Role.ANNOTATOR).user)
    return client


def _create(client, name="Seed"):
    return client.post(CIRCUITS, {"network": "one", "name": name}, format="json")


def _add(client, circuit, unit, etag):
    return client.post(
        f"{CIRCUITS}{circuit}/nodes/", {"unit": unit}, format="json", HTTP_IF_MATCH=etag
    )


def test_every_change_answers_with_the_circuit_and_its_next_etag(client):
    created = _create(client)
    circuit = created.json()["id"]
    first = _add(client, circuit, "a:0", created["ETag"])
    second = _add(client, circuit, "b:1", first["ETag"])
    source, target = (node["id"] for node in second.json()["nodes"])

    joined = client.post(
        f"{CIRCUITS}{circuit}/edges/",
        {"source": source, "target": target},
        format="json",
        HTTP_IF_MATCH=second["ETag"],
    )

    assert [r["ETag"] for r in (created, first, second, joined)] == ['"1"', '"2"', '"3"', '"4"']
    assert joined.json()["edges"] == [
        {
            "id": joined.json()["edges"][0]["id"],
            "source": source,
            "target": target,
            "source_unit": "a:0",
            "target_unit": "b:1",
            "magnitude": 0.5,
            "sign": -1,
            "kind": "direct",
            "kernel": [[-0.5]],
            "origin": {
                "engine": "workers.engine.weights.unit_weights",
                "network": "one",
                "weights_sha256": "",
                "random_seed": 0,
                "source_layer": "a",
                "layer": "b",
            },
        }
    ]


def test_a_change_without_if_match_is_428_and_changes_nothing(client):
    circuit = _create(client).json()["id"]

    response = client.post(f"{CIRCUITS}{circuit}/nodes/", {"unit": "a:0"}, format="json")

    assert (response.status_code, response.json()["code"]) == (428, "precondition_required")
    assert not CircuitNode.objects.exists()


def test_a_unit_already_in_the_circuit_is_409(client):
    created = _create(client)
    added = _add(client, created.json()["id"], "a:0", created["ETag"])

    again = _add(client, created.json()["id"], "a:0", added["ETag"])

    assert (again.status_code, again.json()["code"]) == (409, "node_exists")
    assert Circuit.objects.get().version == 2


def test_an_unknown_unit_is_422_on_its_field(client):
    created = _create(client)

    response = _add(client, created.json()["id"], "a:99", created["ETag"])

    assert (response.status_code, response.json()["fields"]) == (422, {"unit": ["Unknown unit."]})


def test_a_taken_name_is_409(client):
    _create(client, "Curves")

    response = _create(client, "Curves")

    assert (response.status_code, response.json()["code"]) == (409, "name_taken")


def test_a_deleted_circuit_keeps_its_history(client, project):
    created = _create(client)
    circuit = created.json()["id"]

    deleted = client.delete(f"{CIRCUITS}{circuit}/", HTTP_IF_MATCH=created["ETag"])
    history = client.get(f"{CIRCUITS}{circuit}/history/")

    assert (deleted.status_code, client.get(f"{CIRCUITS}{circuit}/").status_code) == (204, 404)
    assert [event["verb"] for event in history.json()["results"]] == [
        "circuit.deleted",
        "circuit.created",
    ]
    assert Event.objects.filter(target_type="circuit").count() == 2


def test_a_circuit_of_another_project_is_not_found(client):
    elsewhere = CircuitFactory()

    response = client.get(f"{CIRCUITS}{elsewhere.pk}/")

    assert response.status_code == 404


def _list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CIRCUITS)
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def test_the_list_takes_the_same_queries_for_one_circuit_or_many(client, project):
    network = project.network_links.get().network
    CircuitFactory(project=project, network=network)
    one = _list_queries(client)
    for _ in range(5):
        CircuitFactory(project=project, network=network)

    many = _list_queries(client)

    assert (one[1], many[1]) == (1, 6)
    assert many[0] == one[0]


def test_a_nodes_role_is_rewritten_and_recorded(client):
    created = _create(client)
    added = _add(client, created.json()["id"], "a:0", created["ETag"])
    node = added.json()["nodes"][0]["id"]

    response = client.patch(
        f"{CIRCUITS}{created.json()['id']}/nodes/{node}/",
        {"role": "detects edges"},
        format="json",
        HTTP_IF_MATCH=added["ETag"],
    )

    assert (response.status_code, response["ETag"]) == (200, '"3"')
    assert response.json()["nodes"][0]["role"] == "detects edges"
    event = Event.objects.get(verb="circuit.node_updated")
    assert (event.before, event.after) == (
        {"unit": "a:0", "role": ""},
        {"unit": "a:0", "role": "detects edges"},
    )
