import io
import json

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from annotations.models import Role
from server.errors import ValidationFailed
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory
from workers.models import Artifact, Job
from workers.services import jobs as job_services
from workers.services.datasets import dataset_register
from workers.services.job_run import job_run
from workers.services.jobs import job_request
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db

IMAGES = 10
# features.2 of MobileNetV2 and conv2d0 of InceptionV1.
MOBILENET_UNITS, INCEPTION_UNITS = 24, 64


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    generator = np.random.default_rng(0)
    for number in range(IMAGES):
        pixels = generator.integers(0, 256, (48, 56, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{number}.png")
    return dataset_register(name="photos", path=folder, public=True)


@pytest.fixture
def mobilenet():
    return network_register(name="mobilenet", arch="mobilenet_v2", random_seed=0, input_size=64)


@pytest.fixture
def inception():
    return network_register(name="inception", arch="inception_v1", random_seed=0, input_size=48)


def request_universality(network, layer="features.2", actor=None, **params):
    job, created = job_request(
        network=network,
        kind="universality",
        layer_name=layer,
        params={"dataset": "photos", "batch_size": 4, **params},
        actor=actor,
    )
    return job, created


def run_universality(network, layer="features.2", **params):
    job, _ = request_universality(network, layer, **params)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def unit_summary(job, network, address):
    layer, index = address.split(":")
    artifact = Artifact.objects.get(
        job=job, network__name=network, layer__name=layer, unit__index=int(index), kind="unit_json"
    )
    return json.loads(artifact.file.read())


def test_a_job_between_two_networks_stores_every_units_matches_on_both_sides(
    photos, mobilenet, inception
):
    job = run_universality(mobilenet, other_network="inception", other_layer="conv2d0", k=4)

    assert job.status == "succeeded"
    assert job.timings["images_seen"] == IMAGES
    summaries = Artifact.objects.filter(job=job, kind="unit_json")
    assert summaries.filter(network=mobilenet).count() == MOBILENET_UNITS
    assert summaries.filter(network=inception, layer__name="conv2d0").count() == INCEPTION_UNITS
    summary = unit_summary(job, "mobilenet", "features.2:5")
    assert summary["compared_with"] == {"network": "inception", "layer": "conv2d0"}
    assert summary["images"] == IMAGES
    assert [match["layer"] for match in summary["matches"]] == ["conv2d0"] * 4
    r = [match["r"] for match in summary["matches"]]
    assert r == sorted(r, reverse=True)
    back = unit_summary(job, "inception", "conv2d0:7")
    assert back["compared_with"] == {"network": "mobilenet", "layer": "features.2"}


def test_the_correlation_matrix_is_stored_once_per_layer_pair_as_npy(photos, mobilenet, inception):
    job = run_universality(mobilenet, other_network="inception", other_layer="conv2d0", k=4)

    artifact = Artifact.objects.get(job=job, kind="layer_data", variant="correlation")
    matrix = np.load(io.BytesIO(artifact.file.read()), allow_pickle=False)
    assert matrix.shape == (MOBILENET_UNITS, INCEPTION_UNITS)
    assert matrix.dtype == np.float32
    assert np.isfinite(matrix).all()
    assert artifact.meta["rows"] == {"network": "mobilenet", "layer": "features.2"}
    assert artifact.meta["columns"] == {"network": "inception", "layer": "conv2d0"}
    summary = unit_summary(job, "mobilenet", "features.2:5")
    best = summary["matches"][0]
    assert best["r"] == pytest.approx(float(matrix[5].max()), abs=1e-6)
    assert best["unit"] == int(matrix[5].argmax())


def test_a_layer_against_itself_matches_each_unit_to_itself_and_stores_one_side(photos, mobilenet):
    job = run_universality(mobilenet, k=2)

    summaries = [
        unit_summary(job, "mobilenet", f"features.2:{unit}") for unit in range(MOBILENET_UNITS)
    ]
    assert Artifact.objects.filter(job=job, kind="unit_json").count() == MOBILENET_UNITS
    varying = [summary for summary in summaries if not summary["constant"]]
    assert varying
    assert [s["matches"][0]["address"] for s in varying] == [s["unit"] for s in varying]
    assert all(s["matches"][0]["r"] == pytest.approx(1.0, abs=1e-6) for s in varying)
    assert all(s["matches"] == [] for s in summaries if s["constant"])


def test_an_identical_request_reuses_the_job(photos, mobilenet, inception):
    job = run_universality(mobilenet, other_network="inception", other_layer="conv2d0")

    again, created = request_universality(
        mobilenet, other_network="inception", other_layer="conv2d0"
    )

    assert (again.pk, created) == (job.pk, False)
    assert Job.objects.count() == 1


def test_an_unknown_other_network_is_refused(photos, mobilenet):
    with pytest.raises(ValidationFailed) as error:
        request_universality(mobilenet, other_network="nowhere", other_layer="conv2d0")

    assert list(error.value.fields) == ["params.other_network"]
    assert Job.objects.count() == 0


def test_an_unknown_other_layer_is_refused(photos, mobilenet, inception):
    with pytest.raises(ValidationFailed) as error:
        request_universality(mobilenet, other_network="inception", other_layer="features.2")

    assert list(error.value.fields) == ["params.other_layer"]


def test_a_network_the_actor_cannot_see_is_refused_like_a_missing_one(photos, mobilenet, inception):
    user = UserFactory()
    link = ProjectNetworkFactory(network=mobilenet)
    MembershipFactory(project=link.project, user=user, role=Role.ANNOTATOR)

    with pytest.raises(ValidationFailed) as hidden:
        request_universality(
            mobilenet, actor=user, other_network="inception", other_layer="conv2d0"
        )
    with pytest.raises(ValidationFailed) as missing:
        request_universality(mobilenet, actor=user, other_network="absent", other_layer="conv2d0")

    assert hidden.value.fields == {"params.other_network": ["no network 'inception'"]}
    assert missing.value.fields == {"params.other_network": ["no network 'absent'"]}
    assert Job.objects.count() == 0


def test_a_hidden_network_with_no_such_layer_is_refused_like_a_missing_network(
    photos, mobilenet, inception
):
    user = UserFactory()
    link = ProjectNetworkFactory(network=mobilenet)
    MembershipFactory(project=link.project, user=user, role=Role.ANNOTATOR)

    with pytest.raises(ValidationFailed) as hidden:
        request_universality(mobilenet, actor=user, other_network="inception", other_layer="nope")

    assert hidden.value.detail == "Invalid parameter other_network: no network 'inception'"
    assert hidden.value.fields == {"params.other_network": ["no network 'inception'"]}
    assert Job.objects.count() == 0


@pytest.fixture
def viewer(api_client, mobilenet, inception):
    """A user whose project studies both networks."""
    user = UserFactory()
    link = ProjectNetworkFactory(network=mobilenet)
    ProjectNetworkFactory(project=link.project, network=inception)
    MembershipFactory(project=link.project, user=user, role=Role.VIEWER)
    api_client.force_authenticate(user)
    return api_client


def test_the_unit_card_lists_the_units_it_resembles_best_first(
    photos, mobilenet, inception, viewer
):
    job = run_universality(mobilenet, other_network="inception", other_layer="conv2d0", k=5)

    card = viewer.get("/api/v1/networks/mobilenet/units/features.2:5/card/").json()

    matches = unit_summary(job, "mobilenet", "features.2:5")["matches"][:3]
    assert [entry["address"] for entry in card["resembles"]] == [m["address"] for m in matches]
    first = card["resembles"][0]
    assert first["text"] == f"inception {matches[0]['address']}, r = {matches[0]['r']:.2f}"
    assert (first["network"], first["dataset"], first["job"]) == ("inception", "photos", job.pk)
    other_side = viewer.get("/api/v1/networks/inception/units/conv2d0:3/card/").json()
    assert {entry["network"] for entry in other_side["resembles"]} == {"mobilenet"}


def test_the_unit_card_hides_resemblances_in_networks_the_user_cannot_see(
    photos, mobilenet, inception, api_client
):
    run_universality(mobilenet, other_network="inception", other_layer="conv2d0")
    user = UserFactory()
    link = ProjectNetworkFactory(network=mobilenet)
    MembershipFactory(project=link.project, user=user, role=Role.VIEWER)
    api_client.force_authenticate(user)

    card = api_client.get("/api/v1/networks/mobilenet/units/features.2:5/card/").json()

    assert card["resembles"] == []


def test_a_newer_job_against_the_same_layer_replaces_the_older_suggestions(
    photos, mobilenet, inception, viewer
):
    run_universality(mobilenet, other_network="inception", other_layer="conv2d0", k=3)
    newer = run_universality(mobilenet, other_network="inception", other_layer="conv2d0", k=4)

    card = viewer.get("/api/v1/networks/mobilenet/units/features.2:5/card/").json()

    assert {entry["job"] for entry in card["resembles"]} == {newer.pk}
    assert len(card["resembles"]) == 3


def test_the_unit_card_with_resemblances_is_a_constant_number_of_queries(
    photos, mobilenet, inception, viewer
):
    run_universality(mobilenet, other_network="inception", other_layer="conv2d0")
    with CaptureQueriesContext(connection) as one_job:
        viewer.get("/api/v1/networks/mobilenet/units/features.2:5/card/")
    run_universality(mobilenet, other_network="inception", other_layer="conv2d1")
    run_universality(mobilenet, other_layer="features.3")

    with CaptureQueriesContext(connection) as three_jobs:
        card = viewer.get("/api/v1/networks/mobilenet/units/features.2:5/card/").json()

    assert len(three_jobs) == len(one_job)
    assert {(e["network"], e["layer"]) for e in card["resembles"]} == {
        ("inception", "conv2d0"),
        ("inception", "conv2d1"),
        ("mobilenet", "features.3"),
    }
