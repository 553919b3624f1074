"""Each job in the API says whether the requesting user may cancel it now."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory
from tests.factories.workers import JobFactory, LayerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def layer():
    return LayerFactory(name="features.0", order=0, channels=4)


@pytest.fixture
def member(api_client, layer):
    project = ProjectNetworkFactory(network=layer.network).project

    def login(role):
        user = MembershipFactory(project=project, role=role, user=UserFactory()).user
        api_client.force_authenticate(user)
        return user

    return login


@pytest.mark.parametrize(
    ("role", "can_cancel"),
    [(Role.OWNER, True), (Role.REVIEWER, True), (Role.ANNOTATOR, False), (Role.VIEWER, False)],
)
def test_can_cancel_someone_elses_job_follows_the_role(api_client, member, layer, role, can_cancel):
    member(role)
    job = JobFactory(layer=layer, created_by=UserFactory())

    listed = api_client.get("/api/v1/jobs/").json()["results"][0]
    detail = api_client.get(f"/api/v1/jobs/{job.pk}/").json()

    assert (listed["can_cancel"], detail["can_cancel"]) == (can_cancel, can_cancel)


def test_an_annotator_can_cancel_their_own_running_job(api_client, member, layer):
    annotator = member(Role.ANNOTATOR)
    job = JobFactory(layer=layer, created_by=annotator, status="running")

    assert api_client.get(f"/api/v1/jobs/{job.pk}/").json()["can_cancel"] is True


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled"])
def test_nobody_can_cancel_a_finished_job(api_client, member, layer, status):
    member(Role.OWNER)
    job = JobFactory(layer=layer, status=status)

    assert api_client.get(f"/api/v1/jobs/{job.pk}/").json()["can_cancel"] is False


def test_the_cancel_answer_says_the_job_can_no_longer_be_cancelled_once_queued_one_is(
    api_client, member, layer
):
    member(Role.OWNER)
    job = JobFactory(layer=layer)

    body = api_client.post(f"/api/v1/jobs/{job.pk}/cancel/").json()

    assert (body["status"], body["can_cancel"]) == ("cancelled", False)


def test_the_job_list_asks_the_policy_a_constant_number_of_times(api_client, member, layer):
    owner = member(Role.OWNER)
    JobFactory(layer=layer, created_by=owner)
    JobFactory(layer=layer, created_by=UserFactory())
    with CaptureQueriesContext(connection) as few:
        api_client.get("/api/v1/jobs/")
    JobFactory.create_batch(10, layer=layer, created_by=owner)
    JobFactory.create_batch(10, layer=layer, created_by=UserFactory())

    with CaptureQueriesContext(connection) as many:
        body = api_client.get("/api/v1/jobs/").json()

    assert [job["can_cancel"] for job in body["results"]] == [True] * 22
    assert len(many) == len(few)
