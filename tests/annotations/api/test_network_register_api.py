import pickle
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.models import ProjectNetwork, Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, UserFactory
from workers.models import Job, Network, Unit
from workers.services.job_run import job_run

pytestmark = pytest.mark.django_db

RANDOM_INCEPTION = {
    "name": "inception-random",
    "arch": "inception_v1",
    "random_weights": True,
    "seed": 1,
    "input_size": 64,
}


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.fixture
def project():
    return ProjectFactory(slug="early-vision")


@pytest.fixture
def client_as(api_client, project):
    def login(role):
        user = UserFactory()
        if role is not None:
            MembershipFactory(project=project, user=user, role=role)
        api_client.force_authenticate(user)
        return api_client

    return login


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.OWNER, 202),
        (Role.REVIEWER, 202),
        (Role.ANNOTATOR, 403),
        (Role.VIEWER, 403),
        (None, 404),
    ],
)
def test_who_may_register_a_network(client_as, role, status):
    client = client_as(role)

    response = client.post("/api/v1/projects/early-vision/networks/", RANDOM_INCEPTION)

    assert response.status_code == status
    assert Network.objects.count() == (1 if status == 202 else 0)
    assert ProjectNetwork.objects.count() == (1 if status == 202 else 0)
    assert Job.objects.count() == (1 if status == 202 else 0)


def test_registration_answers_at_once_with_the_network_inspecting_and_its_job(client_as):
    client = client_as(Role.OWNER)

    response = client.post("/api/v1/projects/early-vision/networks/", RANDOM_INCEPTION)

    body = response.json()
    job = Job.objects.get()
    assert response.status_code == 202
    assert response["Location"] == f"/api/v1/jobs/{job.pk}/"
    assert (body["network"]["name"], body["network"]["status"]) == (
        "inception-random",
        "inspecting",
    )
    assert (body["network"]["layer_count"], body["network"]["unit_count"]) == (0, 0)
    assert (body["job"]["id"], body["job"]["kind"], body["job"]["status"]) == (
        job.pk,
        "inspect_network",
        "queued",
    )
    assert body["job"]["layer"] is None
    assert Unit.objects.count() == 0


def test_the_network_is_ready_with_its_layers_and_units_once_its_job_succeeds(client_as):
    client = client_as(Role.OWNER)
    job_id = client.post("/api/v1/projects/early-vision/networks/", RANDOM_INCEPTION).json()["job"][
        "id"
    ]

    assert job_run(job_id=job_id) == "succeeded"

    body = client.get("/api/v1/networks/inception-random/").json()
    assert (body["status"], body["layer_count"], body["unit_count"]) == ("ready", 12, 5804)
    assert client.get(f"/api/v1/jobs/{job_id}/").json()["status"] == "succeeded"


def test_uploading_a_pickle_that_runs_code_fails_its_job_and_runs_nothing(client_as, tmp_path):
    client = client_as(Role.OWNER)
    marker = tmp_path / "pwned"
    upload = SimpleUploadedFile("weights.pt", pickle.dumps({"w": RunsCode(marker)}))
    job_id = client.post(
        "/api/v1/projects/early-vision/networks/",
        {"name": "evil", "arch": "mobilenet_v2", "weights": upload},
        format="multipart",
    ).json()["job"]["id"]

    assert job_run(job_id=job_id) == "failed"

    job = client.get(f"/api/v1/jobs/{job_id}/").json()
    assert (job["status"], job["error_code"]) == ("failed", "unsafe_file")
    assert not marker.exists()
    assert Network.objects.get().status == "failed"
    assert Unit.objects.count() == 0


def test_a_malformed_registration_is_400_with_field_errors(client_as):
    client = client_as(Role.OWNER)

    response = client.post(
        "/api/v1/projects/early-vision/networks/", {"name": "Not A Slug", "arch": "vgg"}
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"name", "arch"}
    assert Network.objects.count() == 0


def test_a_seed_out_of_range_is_400_on_the_seed_field(client_as):
    client = client_as(Role.OWNER)

    response = client.post(
        "/api/v1/projects/early-vision/networks/", {**RANDOM_INCEPTION, "seed": 10**30}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["seed"]
    assert Network.objects.count() == 0
