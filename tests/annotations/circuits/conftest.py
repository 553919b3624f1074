"""A project studying a small MobileNetV2 (64 px, random weights from seed 0), with a member of
each role; the engine computes real weights on it."""

import pytest
from rest_framework.test import APIClient

from annotations.models import Role
from annotations.services.projects import project_network_link
from tests.factories.annotations import MembershipFactory, ProjectFactory
from workers import runtime
from workers.services.networks import network_register

PROJECT = "/api/v1/projects/curves"


@pytest.fixture(autouse=True)
def _fresh_network_cache(monkeypatch):
    """Network ids repeat across tests (rolled back); no test reads another's loaded network.
    The process device is not set: circuit weights are computed on the CPU whatever it is."""
    monkeypatch.setattr(runtime, "_networks", runtime.OrderedDict())


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
