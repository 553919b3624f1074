import pytest
from django.core.management import CommandError, call_command

from workers.models import Artifact, Job
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db


@pytest.fixture
def mobilenet():
    return network_register(name="mobilenet-v2", arch="mobilenet_v2", bundled_weights=True)


def test_render_runs_the_job_in_process_and_records_it(mobilenet, capsys):
    call_command(
        "render",
        "--network",
        "mobilenet-v2",
        "--layer",
        "features.0",
        "--kind",
        "first_layer_weights",
        "--units",
        "0-3,9",
        "--param",
        "pixels_per_weight=2",
    )

    job = Job.objects.get()
    assert (job.status, job.unit_indices, job.params["pixels_per_weight"]) == (
        "succeeded",
        [0, 1, 2, 3, 9],
        2,
    )
    assert job.worker.startswith("cli@")
    assert Artifact.objects.filter(job=job, kind="unit_image").count() == 5
    assert f"job {job.pk} succeeded: 12 artifacts" in capsys.readouterr().out


def test_rendering_an_already_rendered_layer_does_nothing(mobilenet, capsys):
    arguments = [
        "--network",
        "mobilenet-v2",
        "--layer",
        "features.0",
        "--kind",
        "first_layer_weights",
    ]
    call_command("render", *arguments)

    call_command("render", *arguments)

    assert Job.objects.count() == 1
    assert "is already succeeded; nothing to render" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--network", "nope", "--layer", "features.0"], "No network named 'nope'"),
        (["--network", "mobilenet-v2", "--layer", "features.77"], "has no layer"),
        (["--network", "mobilenet-v2", "--layer", "features.0", "--units", "2-x"], "range"),
        (["--network", "mobilenet-v2", "--layer", "features.0", "--param", "steps"], "key=value"),
    ],
)
def test_bad_arguments_are_clear_errors(mobilenet, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("render", *arguments, "--kind", "first_layer_weights")

    assert Job.objects.count() == 0
