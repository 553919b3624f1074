import io
import os
import subprocess
import sys

import pytest
import torch
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from server.errors import Conflict, ValidationFailed
from workers.models import Job, Layer, Network, Unit
from workers.services import jobs as job_services
from workers.services.job_run import job_run
from workers.services.jobs import job_request
from workers.services.networks import network_register_request

pytestmark = [
    pytest.mark.django_db,
    # torch 2.13 deprecates TorchScript, which stays the engine's format for user models.
    pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning"),
]


@pytest.fixture(autouse=True)
def sent(monkeypatch):
    """Job ids handed to the broker (after commit)."""
    sends = []
    monkeypatch.setattr(
        job_services,
        "_enqueue_after_commit",
        lambda job_id, countdown=None: sends.append(job_id),
    )
    return sends


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.ATLAS_INSPECT_TIMEOUT_SECONDS = 60.0
    settings.ATLAS_INSPECT_MEMORY_MB = 2048


class TwoMaps(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.first = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.second = torch.nn.Conv2d(4, 5, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        first = self.first(x)
        return {"conv1": first, "conv2": self.second(first)}


class Loops(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = 0
        while steps >= 0:
            x = x + 1.0
            steps += 1
        return x


class Hoards(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # 1.6 GB of float32, past the 1 GB address space the test allows.
        hoard = torch.ones(400_000_000)
        return x + hoard[0]


class Named(torch.nn.Module):
    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {self.name: x}


def torchscript(module):
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(module), buffer)
    return SimpleUploadedFile("model.ts", buffer.getvalue())


def register(module, name="scripted", **fields):
    return network_register_request(
        name=name, torchscript=torchscript(module), input_size=32, **fields
    )


def run(job):
    status = job_run(job_id=job.pk)
    job.refresh_from_db()
    return status


def test_a_request_creates_the_network_inspecting_with_no_layers_and_queues_its_job(sent):
    network, job = register(TwoMaps())

    assert (network.status, network.source, network.layers.count()) == (
        "inspecting",
        "torchscript",
        0,
    )
    assert (job.kind, job.status, job.layer, job.network_id) == (
        "inspect_network",
        "queued",
        None,
        network.pk,
    )
    assert sent == [job.pk]


def test_a_succeeded_inspection_creates_the_layers_and_units_and_makes_the_network_ready():
    network, job = register(TwoMaps())

    assert run(job) == "succeeded"

    network.refresh_from_db()
    assert network.status == "ready"
    assert list(Layer.objects.filter(network=network).values_list("name", "channels")) == [
        ("conv1", 4),
        ("conv2", 5),
    ]
    assert Unit.objects.filter(network=network).count() == 9


def test_a_second_delivery_of_a_finished_inspection_creates_no_more_rows():
    network, job = register(TwoMaps())
    run(job)
    Job.objects.filter(pk=job.pk).update(status="queued")

    run(job)

    assert Layer.objects.filter(network=network).count() == 2
    assert Unit.objects.filter(network=network).count() == 9


def test_a_forward_that_never_returns_is_stopped_and_fails_the_job_and_the_network(settings):
    settings.ATLAS_INSPECT_TIMEOUT_SECONDS = 20.0
    network, job = register(Loops())

    assert run(job) == "failed"

    network.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "inspection_timeout")
    assert "did not finish on one image within 20 seconds" in job.error
    assert network.status == "failed"
    assert Layer.objects.count() == 0


def test_a_forward_past_the_memory_limit_fails_the_job_and_the_network(settings):
    settings.ATLAS_INSPECT_MEMORY_MB = 1024
    network, job = register(Hoards())

    assert run(job) == "failed"

    network.refresh_from_db()
    assert (job.status, network.status) == ("failed", "failed")
    assert "can't allocate memory" in job.error
    assert Layer.objects.count() == 0


def test_a_layer_name_over_100_characters_fails_the_job_with_the_rule():
    network, job = register(Named("x" * 101))

    assert run(job) == "failed"

    network.refresh_from_db()
    assert (job.error_code, network.status) == ("invalid_layer_name", "failed")
    assert job.error == (
        f"The layer name {'x' * 40 + '…'!r} has 101 characters; a layer name has at most 100. "
        "Rename the key in forward's output."
    )
    assert Layer.objects.count() == 0


def test_a_layer_name_with_nul_fails_the_job_with_the_rule():
    network, job = register(Named("conv\x001"))

    assert run(job) == "failed"

    assert job.error_code == "invalid_layer_name"
    assert job.error.startswith("The layer name 'conv\\x001' contains a control character")
    assert Layer.objects.count() == 0


def test_a_failed_inspection_removes_the_stored_file():
    network, job = register(Named("a/b"))
    stored = network.weights

    run(job)

    assert job.error_code == "invalid_layer_name"
    assert stored
    assert not default_storage.exists(stored)


def test_the_name_of_a_failed_network_can_be_registered_again():
    failed, job = register(Named("a/b"))
    run(job)

    network, job = register(TwoMaps())

    assert run(job) == "succeeded"
    assert list(Network.objects.values_list("pk", "status")) == [(network.pk, "ready")]
    assert failed.pk != network.pk


def test_the_name_of_a_network_being_inspected_is_taken():
    register(TwoMaps())

    with pytest.raises(Conflict):
        register(TwoMaps())


def test_no_job_may_be_requested_on_a_network_being_inspected():
    network, _ = register(TwoMaps())

    with pytest.raises(Conflict) as error:
        job_request(network=network, kind="weights", layer_name="conv2", actor=None)

    assert error.value.code == "network_not_ready"


def test_an_inspection_cannot_be_requested_as_a_job():
    network, job = register(TwoMaps())
    run(job)

    with pytest.raises(ValidationFailed) as error:
        job_request(network=network, kind="inspect_network", layer_name="conv1", actor=None)

    assert list(error.value.fields) == ["kind"]


def test_requesting_a_registration_imports_no_torch():
    script = (
        "import sys, django\n"
        "django.setup()\n"
        "import annotations.api.views.networks, annotations.services.networks\n"
        "import workers.api.views, workers.services.networks, workers.jobkinds\n"
        "print(sorted(name for name in ('torch', 'torchvision') if name in sys.modules))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "server.settings"},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )

    assert result.stdout == "[]\n"


def test_the_name_of_a_network_whose_inspection_was_cancelled_can_be_registered_again():
    cancelled, job = register(TwoMaps())
    job_services.job_cancel(job=job, actor=None)

    network, job = register(TwoMaps())

    assert run(job) == "succeeded"
    assert list(Network.objects.values_list("pk", "status")) == [(network.pk, "ready")]


def test_cancelling_a_running_inspection_stops_the_model_and_fails_the_network(settings):
    settings.ATLAS_PROGRESS_MIN_INTERVAL_SECONDS = 0
    network, job = register(Loops())

    def cancel_while_inspecting(done, total, message):
        if message == "inspecting the model":
            Job.objects.filter(pk=job.pk).update(cancel_requested=True)

    assert job_run(job_id=job.pk, on_progress=cancel_while_inspecting) == "cancelled"

    network.refresh_from_db()
    assert network.status == "failed"
    assert Layer.objects.count() == 0
