"""A project studying a small MobileNetV2 (64 px, random weights from seed 0), with a member of
each role; a worker's connections job computes real weights on it.

Edge weights and growing read what a connections job stored: the first request for a pair of
layers asks for that job (409 ``weights_pending``); here the worker code runs the job, as a
Celery worker would, and the request is made again."""

import pytest
from rest_framework.test import APIClient

from annotations.models import Role
from annotations.services.projects import project_network_link
from tests.factories.annotations import MembershipFactory, ProjectFactory
from workers import runtime
from workers.services import jobs as job_services
from workers.services.connections import WeightsPending
from workers.services.job_run import job_run
from workers.services.networks import network_register

PROJECT = "/api/v1/projects/curves"


@pytest.fixture(autouse=True)
def _fresh_network_cache(monkeypatch):
    """Network ids repeat across tests (rolled back); no test reads another's loaded network."""
    monkeypatch.setattr(runtime, "_networks", runtime.OrderedDict())


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Jobs are run by ``job_run`` in the tests themselves, never handed to a broker."""
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


@pytest.fixture
def mobilenet():
    return network_register(name="mobilenet", arch="mobilenet_v2", random_seed=0, input_size=64)


@pytest.fixture
def project(mobilenet):
    project = ProjectFactory(slug="curves", name="Curves")
    project_network_link(project=project, network=mobilenet, actor=None)
    return project


@pytest.fixture
def members(project):
    return {
        role: MembershipFactory(project=project, role=role, user__username=role).user
        for role in Role.values
    }


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def if_match(response):
    return {"HTTP_IF_MATCH": response["ETag"]}


def after_the_worker(service, **arguments):
    """``service(**arguments)``; when the weights it reads are pending, the worker runs their
    connections job and the service is called again with the same arguments."""
    try:
        return service(**arguments)
    except WeightsPending as pending:
        assert job_run(job_id=pending.job.pk) == "succeeded"
    return service(**arguments)


def post_after_the_worker(client, path, body, **headers):
    """POST ``body``; when the answer is 409 ``weights_pending``, the worker runs the job it
    names and the same request is sent again."""
    response = client.post(path, body, format="json", **headers)
    if response.status_code == 409 and response.json()["code"] == "weights_pending":
        [job_id] = response.json()["fields"]["job"]
        assert job_run(job_id=int(job_id)) == "succeeded"
        response = client.post(path, body, format="json", **headers)
    return response
