import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory
from tests.openapi import query_parameter
from workers.services import jobs as job_services
from workers.services.job_run import job_run
from workers.services.jobs import job_request
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


@pytest.fixture
def mobilenet():
    return network_register(name="mobilenet-v2", arch="mobilenet_v2", bundled_weights=True)


@pytest.fixture
def viewer(api_client, mobilenet):
    user = UserFactory()
    link = ProjectNetworkFactory(network=mobilenet)
    MembershipFactory(project=link.project, user=user, role=Role.VIEWER)
    api_client.force_authenticate(user)
    return api_client


def render_first_layer(network, **params):
    job, _ = job_request(
        network=network,
        kind="first_layer_weights",
        layer_name="features.0",
        params=params,
        actor=None,
    )
    job_run(job_id=job.pk)
    return job


def test_the_unit_card_holds_every_rendering_of_the_unit(viewer, mobilenet):
    small = render_first_layer(mobilenet, pixels_per_weight=4)
    large = render_first_layer(mobilenet, pixels_per_weight=16)

    card = viewer.get("/api/v1/networks/mobilenet-v2/units/features.0:9/card/").json()

    assert card["address"] == "features.0:9"
    assert card["layer"]["name"] == "features.0"
    assert [r["job"] for r in card["renderings"]] == [large.pk, small.pk]
    assert [a["kind"] for a in card["renderings"][0]["artifacts"]] == ["unit_image", "unit_json"]
    assert {a["unit"] for a in card["renderings"][0]["artifacts"]} == {"features.0:9"}


def test_the_unit_card_is_a_constant_number_of_queries(viewer, mobilenet):
    render_first_layer(mobilenet, pixels_per_weight=4)
    with CaptureQueriesContext(connection) as one_job:
        viewer.get("/api/v1/networks/mobilenet-v2/units/features.0:9/card/")
    render_first_layer(mobilenet, pixels_per_weight=5)
    render_first_layer(mobilenet, pixels_per_weight=6)

    with CaptureQueriesContext(connection) as three_jobs:
        viewer.get("/api/v1/networks/mobilenet-v2/units/features.0:9/card/")

    assert len(three_jobs) == len(one_job)


def test_a_unit_never_rendered_has_an_empty_card(viewer, mobilenet):
    card = viewer.get("/api/v1/networks/mobilenet-v2/units/features.3:1/card/").json()

    assert card["renderings"] == []


def test_the_layer_sprite_comes_with_its_index_in_one_response(viewer, mobilenet):
    job = render_first_layer(mobilenet)

    body = viewer.get(
        "/api/v1/networks/mobilenet-v2/layers/features.0/sprite/", {"kind": "first_layer_weights"}
    ).json()

    assert body["job"] == job.pk
    assert len(body["index"]["units"]) == 32
    assert body["index"]["tile_width"] == 24
    assert body["sprite"]["download_url"].endswith("/download/")


def test_a_layer_not_rendered_yet_has_no_sprite(viewer, mobilenet):
    response = viewer.get(
        "/api/v1/networks/mobilenet-v2/layers/features.1/sprite/", {"kind": "first_layer_weights"}
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_rendered"


def test_the_sprite_needs_a_known_kind(viewer, mobilenet):
    response = viewer.get(
        "/api/v1/networks/mobilenet-v2/layers/features.0/sprite/", {"kind": "dreams"}
    )

    assert response.status_code == 400
    assert "kind" in response.json()["fields"]


def test_the_sprite_kind_is_required(viewer, mobilenet):
    response = viewer.get("/api/v1/networks/mobilenet-v2/layers/features.0/sprite/")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["kind"]


def test_the_sprite_refuses_a_kind_that_draws_no_sprite_sheet(viewer, mobilenet):
    response = viewer.get(
        "/api/v1/networks/mobilenet-v2/layers/features.0/sprite/", {"kind": "universality"}
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["kind"]


def test_the_schema_lists_the_sprite_kinds_and_requires_one():
    kind = query_parameter("get", "/api/v1/networks/{name}/layers/{layer}/sprite/", "kind")

    assert kind["required"] is True
    assert kind["schema"]["enum"] == [
        "dataset_examples",
        "feature_visualization",
        "first_layer_weights",
        "weights",
    ]
