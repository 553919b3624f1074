import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory
from tests.openapi import query_parameter
from workers.models import Artifact
from workers.services import jobs as job_services
from workers.services.datasets import dataset_register
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


@pytest.fixture
def black_photos(tmp_path):
    """Three black images: each unit of features.0 sees only its bias through BatchNorm and
    ReLU6, so the units whose bias is negative never fire on them."""
    folder = tmp_path / "black"
    folder.mkdir()
    for number in range(3):
        Image.new("RGB", (32, 32)).save(folder / f"{number}.png")
    dataset_register(name="black", path=folder)
    return folder


def render_examples(network, **params):
    job, _ = job_request(
        network=network,
        kind="dataset_examples",
        layer_name="features.0",
        params={"dataset": "black", "k": 2, "crop_size": 16, **params},
        actor=None,
    )
    job_run(job_id=job.pk)
    return job


def _units_by_firing(job):
    fired = {
        artifact.unit.index: artifact.meta["fired_on"]
        for artifact in Artifact.objects.filter(job=job, kind="unit_json", variant="")
    }
    never = sorted(unit for unit, on in fired.items() if on["never_fired"])
    ever = sorted(unit for unit, on in fired.items() if not on["never_fired"])
    return never, ever


def test_the_card_marks_a_unit_that_never_fired_on_the_dataset(viewer, mobilenet, black_photos):
    job = render_examples(mobilenet)
    never, ever = _units_by_firing(job)

    card = viewer.get(f"/api/v1/networks/mobilenet-v2/units/features.0:{never[0]}/card/").json()
    other = viewer.get(f"/api/v1/networks/mobilenet-v2/units/features.0:{ever[0]}/card/").json()

    assert card["fired_on"] == [
        {"dataset": "black", "images": 0, "of": 3, "never_fired": True, "job": job.pk}
    ]
    assert other["fired_on"] == [
        {"dataset": "black", "images": 3, "of": 3, "never_fired": False, "job": job.pk}
    ]


def test_the_card_shows_the_newest_job_per_dataset(viewer, mobilenet, black_photos):
    render_examples(mobilenet)
    newer = render_examples(mobilenet, k=3)

    card = viewer.get("/api/v1/networks/mobilenet-v2/units/features.0:0/card/").json()

    assert [entry["job"] for entry in card["fired_on"]] == [newer.pk]
    assert [entry["job"] for entry in card["activation_distributions"]] == [newer.pk]


def test_the_card_holds_the_units_activation_distribution(viewer, mobilenet, black_photos):
    job = render_examples(mobilenet)

    card = viewer.get("/api/v1/networks/mobilenet-v2/units/features.0:4/card/").json()

    [distribution] = card["activation_distributions"]
    stored = Artifact.objects.get(job=job, unit__index=4, kind="unit_json", variant="distribution")
    assert distribution == {**stored.meta, "dataset": "black", "job": job.pk, "artifact": stored.pk}
    assert (distribution["bins"], sum(distribution["counts"]), len(distribution["top"])) == (
        32,
        3,
        2,
    )
    assert distribution["classes"] is None


def test_the_card_lists_the_strongest_examples_before_the_weakest(viewer, mobilenet, black_photos):
    render_examples(mobilenet)

    card = viewer.get("/api/v1/networks/mobilenet-v2/units/features.0:4/card/").json()

    [rendering] = card["renderings"]
    assert [(a["kind"], a["variant"]) for a in rendering["artifacts"]] == [
        ("unit_image", "top"),
        ("unit_image", "bottom"),
        ("unit_json", ""),
        ("unit_json", "distribution"),
    ]


def test_a_card_without_dataset_examples_has_no_firing_or_distribution(viewer, mobilenet):
    render_first_layer(mobilenet)

    card = viewer.get("/api/v1/networks/mobilenet-v2/units/features.0:9/card/").json()

    assert (card["fired_on"], card["activation_distributions"]) == ([], [])
