"""Every circuit and link endpoint against every kind of caller: members read; annotators and
up change circuits and propose links; the author, reviewers and owners delete a circuit;
reviewers and owners other than the proposer review a link; non-members get the 404 of a
missing project, anonymous callers 401. A refused write changes nothing and writes no event.

The weights between the layers are stored as a connections job leaves them: what is checked
is who may read them into the circuit."""

import numpy as np
import pytest
from rest_framework.test import APIClient

from annotations.models import Circuit, CircuitEdge, CircuitNode, Event, Role, UnitLink
from tests.factories.annotations import (
    CircuitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.connections import connections_stored
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db

PROJECT = "/api/v1/projects/{slug}"
LINK_BODY = {
    "unit_a": {"network": "one", "unit": "a:3"},
    "unit_b": {"network": "two", "unit": "x:1"},
}
# (method, path, body); {circuit}, {node}, {edge}, {link} are filled in from the fixture.
ENDPOINTS = {
    "circuits.list": ("get", "/circuits/", None),
    "circuits.create": ("post", "/circuits/", {"network": "one", "name": "New"}),
    "circuit.retrieve": ("get", "/circuits/{circuit}/", None),
    "circuit.update": ("patch", "/circuits/{circuit}/", {"description": "Edited."}),
    "circuit.delete": ("delete", "/circuits/{circuit}/", None),
    "circuit.history": ("get", "/circuits/{circuit}/history/", None),
    "nodes.add": ("post", "/circuits/{circuit}/nodes/", {"unit": "b:1", "role": "new"}),
    "node.update": ("patch", "/circuits/{circuit}/nodes/{node}/", {"role": "renamed"}),
    "node.remove": ("delete", "/circuits/{circuit}/nodes/{node}/", None),
    "edges.add": ("post", "/circuits/{circuit}/edges/", {"source": "{node}", "target": "{b0}"}),
    "edge.remove": ("delete", "/circuits/{circuit}/edges/{edge}/", None),
    "grow": ("post", "/circuits/{circuit}/grow/", {"node": "{b0}", "k": 1}),
    "links.list": ("get", "/links/", None),
    "links.create": ("post", "/links/", LINK_BODY),
    "link.retrieve": ("get", "/links/{link}/", None),
    "link.review": ("post", "/links/{link}/review/", {"verdict": "confirm"}),
    "unit.links": ("get", "/units/one/a:0/links/", None),
}
READS = ["circuits.list", "circuit.retrieve", "circuit.history", "links.list", "link.retrieve"]
READS += ["unit.links"]
WRITES = [endpoint for endpoint in ENDPOINTS if endpoint not in READS]
CREATED = {"circuits.create": 201, "nodes.add": 201, "edges.add": 201, "links.create": 201}
WRITTEN = {endpoint: CREATED.get(endpoint, 200) for endpoint in WRITES}
WRITTEN["circuit.delete"] = 204

EXPECTED_STATUS = {
    "owner": {**dict.fromkeys(READS, 200), **WRITTEN},
    "reviewer": {**dict.fromkeys(READS, 200), **WRITTEN},
    "annotator": {
        **dict.fromkeys(READS, 200),
        **WRITTEN,
        "circuit.delete": 403,
        "link.review": 403,
    },
    "viewer": {**dict.fromkeys(READS, 200), **dict.fromkeys(WRITES, 403)},
    "non-member": dict.fromkeys(ENDPOINTS, 404),
    "anonymous": dict.fromkeys(ENDPOINTS, 401),
}
REFUSED_WRITES = [
    (caller, endpoint)
    for caller, statuses in EXPECTED_STATUS.items()
    for endpoint in WRITES
    if statuses[endpoint] >= 400
]


@pytest.fixture
def scene():
    """Network "one" (layers a and b) and "two" (layer x); a circuit by another annotator with
    nodes a:0, a:1 and b:0 and the edge a:0 → b:0; a link proposed by that annotator."""
    project = ProjectFactory(slug="curves")
    one = ProjectNetworkFactory(project=project, network__name="one").network
    two = ProjectNetworkFactory(project=project, network__name="two").network
    a = LayerFactory(network=one, name="a", order=0)
    b = LayerFactory(network=one, name="b", order=1)
    # Every kernel from a into b is [[1.0]] but a:2 → b:0, the strongest: growing b:0 by one
    # input adds a:2.
    kernels = np.ones((b.channels, a.channels, 1, 1))
    kernels[0, 2] = 2.0
    connections_stored(b, a, kernels)
    LayerFactory(network=two, name="x", order=0)
    author = MembershipFactory(project=project, role=Role.ANNOTATOR).user
    circuit = CircuitFactory(project=project, network=one, created_by=author, name="Old")
    a0, a1, b0 = (
        CircuitNode.objects.create(circuit=circuit, unit=one.units.get(layer__name=layer, index=i))
        for layer, i in (("a", 0), ("a", 1), ("b", 0))
    )
    edge = CircuitEdge.objects.create(
        circuit=circuit, source=a0, target=b0, magnitude=1.0, sign=1, kind="direct", kernel=[[1]]
    )
    link = UnitLink.objects.create(
        project=project,
        unit_a=one.units.get(layer__name="a", index=0),
        unit_b=two.units.get(index=0),
        proposed_by=author,
    )
    ids = {"circuit": circuit.pk, "node": a1.pk, "b0": b0.pk, "edge": edge.pk, "link": link.pk}
    return project, ids


def _client_as(caller, project):
    client = APIClient()
    if caller == "non-member":
        client.force_authenticate(UserFactory())
    if caller in Role.values:
        client.force_authenticate(MembershipFactory(project=project, role=caller).user)
    return client


def _filled(value, ids):
    if isinstance(value, dict):
        return {key: _filled(item, ids) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


def _call(client, endpoint, slug, ids):
    method, path, body = ENDPOINTS[endpoint]
    url = PROJECT.format(slug=slug) + path.format(**ids)
    return getattr(client, method)(url, _filled(body, ids), format="json", HTTP_IF_MATCH='"1"')


def _state():
    return (
        sorted(Circuit.objects.values_list("pk", "name", "description", "version")),
        sorted(CircuitNode.objects.values_list("pk", "unit_id", "role")),
        sorted(CircuitEdge.objects.values_list("pk", "source_id", "target_id")),
        sorted(UnitLink.objects.values_list("pk", "status", "version")),
        Event.objects.count(),
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("caller", EXPECTED_STATUS)
def test_status_by_caller_and_endpoint(scene, caller, endpoint):
    project, ids = scene
    client = _client_as(caller, project)

    response = _call(client, endpoint, project.slug, ids)

    assert response.status_code == EXPECTED_STATUS[caller][endpoint]


@pytest.mark.parametrize(("caller", "endpoint"), REFUSED_WRITES)
def test_refused_write_changes_nothing_and_writes_no_event(scene, caller, endpoint):
    project, ids = scene
    client = _client_as(caller, project)
    before = _state()

    _call(client, endpoint, project.slug, ids)

    assert _state() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_non_member_gets_the_same_404_as_for_a_missing_project(scene, endpoint):
    project, ids = scene
    client = _client_as("non-member", project)

    forbidden = _call(client, endpoint, project.slug, ids)
    missing = _call(client, endpoint, "no-such-project", ids)

    assert (forbidden.status_code, forbidden.json()) == (missing.status_code, missing.json())
    assert forbidden.json() == {"detail": "Project not found.", "code": "not_found", "fields": {}}


def test_the_author_of_a_circuit_deletes_it_and_the_proposer_cannot_review_the_link(scene):
    project, ids = scene
    circuit = Circuit.objects.get(pk=ids["circuit"])
    client = APIClient()
    client.force_authenticate(circuit.created_by)

    deleted = _call(client, "circuit.delete", project.slug, ids)
    reviewed = _call(client, "link.review", project.slug, ids)

    assert (deleted.status_code, reviewed.status_code) == (204, 403)
    assert UnitLink.objects.get(pk=ids["link"]).status == "proposed"
