import pickle
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.models import ProjectNetwork, Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, UserFactory
from workers.models import Network, Unit

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
        (Role.OWNER, 201),
        (Role.REVIEWER, 201),
        (Role.ANNOTATOR, 403),
        (Role.VIEWER, 403),
        (None, 404),
    ],
)
def test_who_may_register_a_network(client_as, role, status):
    client = client_as(role)

    response = client.post("/api/v1/projects/early-vision/networks/", RANDOM_INCEPTION)

    assert response.status_code == status
    assert Network.objects.count() == (1 if status == 201 else 0)
    assert ProjectNetwork.objects.count() == (1 if status == 201 else 0)


def test_registration_answers_with_the_network_and_its_counts(client_as):
    client = client_as(Role.OWNER)

    body = client.post("/api/v1/projects/early-vision/networks/", RANDOM_INCEPTION).json()

    assert (body["name"], body["arch"], body["layer_count"]) == (
        "inception-random",
        "inception_v1",
        12,
    )
    assert body["unit_count"] == Unit.objects.count() == 5804


def test_uploading_a_pickle_that_runs_code_is_refused_and_leaves_nothing(client_as, tmp_path):
    client = client_as(Role.OWNER)
    marker = tmp_path / "pwned"
    upload = SimpleUploadedFile("weights.pt", pickle.dumps({"w": RunsCode(marker)}))

    response = client.post(
        "/api/v1/projects/early-vision/networks/",
        {"name": "evil", "arch": "mobilenet_v2", "weights": upload},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "unsafe_file"
    assert not marker.exists()
    assert Network.objects.count() == 0
    assert ProjectNetwork.objects.count() == 0


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
