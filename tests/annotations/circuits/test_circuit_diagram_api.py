"""GET /api/v1/projects/{slug}/circuits/{id}/diagram.svg: the stored circuit drawn as a
standalone SVG, with each unit's picture cut from its layer's sprite sheet."""

import base64
import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from rest_framework.test import APIClient

from annotations.models import CircuitEdge, CircuitNode, Role
from tests.factories.annotations import (
    CircuitFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory
from tests.frontend.e2e.artifacts import pattern_tile, rendered_layer

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def circuit():
    project = ProjectFactory(slug="early-vision")
    circuit = CircuitFactory(project=project, name="Curves & <friends>")
    mixed3a = LayerFactory(network=circuit.network, name="mixed3a", order=3, channels=8)
    mixed3b = LayerFactory(network=circuit.network, name="mixed3b", order=4, channels=8)
    rendered_layer(mixed3b, size=32)
    source = CircuitNode.objects.create(
        circuit=circuit, unit=mixed3a.units.get(index=2), role="early curve"
    )
    target = CircuitNode.objects.create(
        circuit=circuit, unit=mixed3b.units.get(index=5), role="curve detector"
    )
    CircuitEdge.objects.create(
        circuit=circuit,
        source=source,
        target=target,
        magnitude=1.5,
        sign=-1,
        kind=CircuitEdge.Kind.DIRECT,
        kernel=[[-1.0, 0.5], [0.0, -1.0]],
    )
    return circuit


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def member(circuit, role=Role.VIEWER):
    return MembershipFactory(project=circuit.project, role=role).user


def diagram_url(circuit):
    return f"/api/v1/projects/{circuit.project.slug}/circuits/{circuit.pk}/diagram.svg"


def parse(content):
    # The server's own output, parsed to check it is well-formed.
    return ET.fromstring(content)  # noqa: S314


def nodes_of(root):
    return {element.get("data-address"): element for element in root.iter(f"{SVG}a")}


def test_a_member_gets_the_circuit_as_an_svg_document(circuit):
    response = client_for(member(circuit)).get(diagram_url(circuit))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    root = parse(response.content)
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title").text == f"Curves & <friends> ({circuit.network.name})"
    assert set(nodes_of(root)) == {"mixed3a:2", "mixed3b:5"}


def test_the_edge_carries_the_stored_weight_and_kernel(circuit):
    root = parse(client_for(member(circuit)).get(diagram_url(circuit)).content)

    [edge] = [element for element in root.iter(f"{SVG}g") if element.get("class") == "edge"]
    assert edge.get("data-source") == "mixed3a:2"
    assert edge.get("data-target") == "mixed3b:5"
    assert edge.get("data-weight") == "-1.5"
    assert edge.get("data-kernel-values") == "[[-1.0,0.5],[0.0,-1.0]]"


def test_a_rendered_unit_shows_its_own_tile_of_the_sprite_sheet(circuit):
    root = parse(client_for(member(circuit)).get(diagram_url(circuit)).content)

    href = nodes_of(root)["mixed3b:5"].find(f"{SVG}image").get("href")
    prefix = "data:image/png;base64,"
    assert href.startswith(prefix)
    picture = np.array(Image.open(io.BytesIO(base64.b64decode(href.removeprefix(prefix)))))
    assert np.array_equal(picture, pattern_tile(5, 32))


def test_a_unit_of_an_unrendered_layer_gets_a_placeholder(circuit):
    root = parse(client_for(member(circuit)).get(diagram_url(circuit)).content)

    unrendered = nodes_of(root)["mixed3a:2"]
    assert unrendered.find(f"{SVG}image") is None
    assert unrendered.find(f"{SVG}rect[@class='placeholder']") is not None


def test_nodes_link_to_their_unit_cards_by_absolute_address(circuit):
    root = parse(client_for(member(circuit)).get(diagram_url(circuit)).content)

    network = circuit.network.name
    assert nodes_of(root)["mixed3b:5"].get("href") == (
        f"http://testserver/p/early-vision/units/{network}/mixed3b:5/"
    )


def test_more_units_in_the_same_layers_take_no_more_queries(circuit, django_assert_num_queries):
    client = client_for(member(circuit))
    # Project, role, circuit, nodes, edges; per layer its sprite sheet and, if found, its index.
    with django_assert_num_queries(7):
        client.get(diagram_url(circuit))
    for layer in circuit.network.layers.all():
        for unit in layer.units.filter(index__in=[0, 1, 6]):
            CircuitNode.objects.create(circuit=circuit, unit=unit)

    with django_assert_num_queries(7):
        response = client.get(diagram_url(circuit))

    assert len(nodes_of(parse(response.content))) == 8


def test_a_non_member_gets_the_same_404_as_for_a_missing_project(circuit):
    response = client_for(UserFactory()).get(diagram_url(circuit))

    assert response.status_code == 404
    assert response.json() == {"detail": "Project not found.", "code": "not_found", "fields": {}}


def test_a_circuit_of_another_project_is_not_found(circuit):
    other = CircuitFactory(project=ProjectFactory(slug="elsewhere"))

    response = client_for(member(circuit)).get(
        f"/api/v1/projects/early-vision/circuits/{other.pk}/diagram.svg"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_anonymous_visitor_is_refused(circuit):
    response = APIClient().get(diagram_url(circuit))

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
