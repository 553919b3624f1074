"""A real worker inspects uploaded TorchScript models and outlives a hostile one."""

import io

import pytest
import torch
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, UserFactory
from tests.workers.test_worker_process import media_root, wait_for, workers  # noqa: F401
from workers.models import Job, Network

pytestmark = [
    pytest.mark.worker_process,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning"),
]


class Loops(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = 0
        while steps >= 0:
            x = x + 1.0
            steps += 1
        return x


class OneMap(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 6, 3, stride=2)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"conv": self.conv(x)}


@pytest.fixture
def owner():
    user = UserFactory()
    MembershipFactory(project=ProjectFactory(slug="early-vision"), user=user, role=Role.OWNER)
    client = APIClient()
    client.force_authenticate(user)
    return client


def register(client, name, module):
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(module), buffer)
    response = client.post(
        "/api/v1/projects/early-vision/networks/",
        {"name": name, "torchscript": SimpleUploadedFile("model.ts", buffer.getvalue())},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    return response.json()["job"]["id"]


def finished(job_id):
    return lambda: Job.objects.get(pk=job_id).is_finished


def test_a_looping_model_fails_its_job_and_the_same_worker_then_inspects_another(
    owner,
    workers,  # noqa: F811
):
    worker = workers(ATLAS_INSPECT_TIMEOUT_SECONDS=15, ATLAS_INSPECT_MEMORY_MB=2048)
    looping = register(owner, "looping", Loops())
    wait_for(finished(looping), worker, timeout=240)
    plain = register(owner, "plain", OneMap())
    wait_for(finished(plain), worker, timeout=240)

    failed, succeeded = Job.objects.get(pk=looping), Job.objects.get(pk=plain)
    assert (failed.status, failed.error_code, failed.attempts) == (
        "failed",
        "inspection_timeout",
        1,
    )
    assert (succeeded.status, succeeded.worker) == ("succeeded", failed.worker)
    assert dict(Network.objects.values_list("name", "status")) == {
        "looping": "failed",
        "plain": "ready",
    }
    assert list(Network.objects.get(name="plain").layers.values_list("name", "channels")) == [
        ("conv", 6)
    ]
