import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory
from tests.factories.workers import JobFactory, LayerFactory
from workers.models import Job
from workers.services import jobs as job_services

pytestmark = pytest.mark.django_db

ROLES = [Role.OWNER, Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER]


@pytest.fixture(autouse=True)
def sent(monkeypatch):
    ids = []
    monkeypatch.setattr(job_services, "_enqueue_after_commit", ids.append)
    return ids


@pytest.fixture
def layer():
    return LayerFactory(name="features.0", order=0, channels=4)


@pytest.fixture
def project(layer):
    return ProjectNetworkFactory(network=layer.network).project


@pytest.fixture
def client_as(api_client, project):
    def login(role):
        user = UserFactory()
        if role is not None:
            MembershipFactory(project=project, user=user, role=role)
        api_client.force_authenticate(user)
        return api_client

    return login


def job_payload(first_layer, **changes):
    return {
        "network": first_layer.network.name,
        "kind": "first_layer_weights",
        "layer": first_layer.name,
        **changes,
    }


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.OWNER, 201),
        (Role.REVIEWER, 201),
        (Role.ANNOTATOR, 201),
        (Role.VIEWER, 403),
        (None, 404),
    ],
)
def test_who_may_create_a_job(client_as, api_client, layer, sent, role, status):
    client = client_as(role)

    response = client.post("/api/v1/jobs/", job_payload(layer), format="json")

    assert response.status_code == status
    assert Job.objects.count() == (1 if status == 201 else 0)
    assert len(sent) == (1 if status == 201 else 0)


def test_a_non_member_gets_the_same_404_as_for_a_missing_network(client_as, api_client, layer):
    client = client_as(None)

    hidden = client.post("/api/v1/jobs/", job_payload(layer), format="json")
    missing = client.post("/api/v1/jobs/", job_payload(layer, network="no-such-net"), format="json")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"] == "not_found"


def test_anonymous_requests_are_refused(client_as, api_client, layer):
    response = api_client.post("/api/v1/jobs/", job_payload(layer), format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert Job.objects.count() == 0


def test_repeating_a_request_returns_the_existing_job_with_200(client_as, api_client, layer, sent):
    client = client_as(Role.ANNOTATOR)

    first = client.post("/api/v1/jobs/", job_payload(layer), format="json")
    again = client.post("/api/v1/jobs/", job_payload(layer), format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert sent == [first.json()["id"]]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "dream"}, "kind"),
        ({"units": [-1]}, "units.0"),
        ({"params": []}, "params"),
    ],
)
def test_malformed_job_requests_are_400_with_field_errors(
    client_as, api_client, layer, payload, field
):
    client = client_as(Role.OWNER)

    response = client.post("/api/v1/jobs/", job_payload(layer, **payload), format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", "fields"}
    assert field in response.json()["fields"]
    assert Job.objects.count() == 0


def test_units_the_layer_does_not_have_are_a_422(client_as, api_client, layer):
    client = client_as(Role.OWNER)

    response = client.post("/api/v1/jobs/", job_payload(layer, units=[99]), format="json")

    assert (response.status_code, response.json()["code"]) == (422, "unknown_unit")
    assert list(response.json()["fields"]) == ["units"]
    assert Job.objects.count() == 0


def test_a_parameter_value_the_kind_refuses_is_a_422(client_as, api_client, layer):
    client = client_as(Role.OWNER)

    response = client.post(
        "/api/v1/jobs/", job_payload(layer, params={"pixels_per_weight": "big"}), format="json"
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["params.pixels_per_weight"]
    assert Job.objects.count() == 0


def test_a_layer_the_network_does_not_have_is_a_422(client_as, api_client, layer):
    client = client_as(Role.OWNER)

    response = client.post("/api/v1/jobs/", job_payload(layer, layer="features.7"), format="json")

    assert (response.status_code, response.json()["code"]) == (422, "unknown_layer")
    assert list(response.json()["fields"]) == ["layer"]
    assert Job.objects.count() == 0


def test_a_body_that_is_not_json_is_400(client_as, api_client, layer):
    client = client_as(Role.OWNER)

    response = client.post("/api/v1/jobs/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_job_detail_shows_progress_attempts_and_timings(client_as, api_client, layer):
    client = client_as(Role.VIEWER)
    job = JobFactory(
        layer=layer, status="succeeded", progress=1.0, attempts=2, timings={"total_seconds": 1.5}
    )

    body = client.get(f"/api/v1/jobs/{job.pk}/").json()

    assert (body["status"], body["progress"], body["attempts"]) == ("succeeded", 1.0, 2)
    assert body["timings"] == {"total_seconds": 1.5}
    assert body["network"] == layer.network.name


def test_a_job_of_another_project_is_404(client_as, api_client, layer):
    client = client_as(Role.OWNER)
    stranger = JobFactory()

    response = client.get(f"/api/v1/jobs/{stranger.pk}/")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.OWNER, 200), (Role.REVIEWER, 200), (Role.ANNOTATOR, 403), (Role.VIEWER, 403)],
)
def test_who_may_cancel_someone_elses_job(client_as, api_client, layer, role, status):
    client = client_as(role)
    job = JobFactory(layer=layer, created_by=UserFactory())

    response = client.post(f"/api/v1/jobs/{job.pk}/cancel/")

    assert response.status_code == status
    job.refresh_from_db()
    assert job.status == ("cancelled" if status == 200 else "queued")


def test_an_annotator_may_cancel_their_own_job(client_as, api_client, layer):
    client = client_as(Role.ANNOTATOR)
    job = JobFactory(layer=layer, created_by=client.handler._force_user)

    response = client.post(f"/api/v1/jobs/{job.pk}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_cancelling_a_finished_job_is_409(client_as, api_client, layer):
    client = client_as(Role.OWNER)
    job = JobFactory(layer=layer, status="succeeded")

    response = client.post(f"/api/v1/jobs/{job.pk}/cancel/")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_job_list_is_a_constant_number_of_queries(client_as, api_client, layer):
    client = client_as(Role.VIEWER)
    JobFactory.create_batch(2, layer=layer)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/jobs/")
    JobFactory.create_batch(20, layer=layer)

    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/jobs/")

    assert response.json()["count"] == 22
    assert len(many) == len(few)


def test_a_dataset_examples_job_without_a_layer_covers_every_layer(client_as, api_client, layer):
    LayerFactory(network=layer.network, name="features.1", order=1, channels=4)
    client = client_as(Role.OWNER)

    response = client.post(
        "/api/v1/jobs/",
        {"network": layer.network.name, "kind": "dataset_examples", "layer": None},
        format="json",
    )

    assert response.status_code == 201
    assert (response.json()["layer"], response.json()["params"]["layers"]) == (None, "all")


def test_a_job_of_another_kind_without_a_layer_is_400(client_as, api_client, layer):
    client = client_as(Role.OWNER)

    response = client.post(
        "/api/v1/jobs/", {"network": layer.network.name, "kind": "weights"}, format="json"
    )

    assert (response.status_code, list(response.json()["fields"])) == (400, ["layer"])
    assert Job.objects.count() == 0
