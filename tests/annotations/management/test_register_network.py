import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from annotations.models import ApiToken, ProjectNetwork
from tests.factories.annotations import ProjectFactory
from workers.models import Network

pytestmark = pytest.mark.django_db


def test_register_network_with_bundled_weights_into_a_project(capsys):
    ProjectFactory(slug="demo")

    call_command(
        "register_network",
        "--name",
        "mobilenet-v2",
        "--arch",
        "mobilenet_v2",
        "--bundled-weights",
        "--project",
        "demo",
    )

    assert "registered mobilenet-v2 in project demo: 52 layers, 17056 units" in (
        capsys.readouterr().out
    )
    assert ProjectNetwork.objects.get().network.name == "mobilenet-v2"


def test_random_weights_are_a_seeded_control():
    call_command(
        "register_network",
        "--name",
        "untrained",
        "--arch",
        "inception_v1",
        "--random-weights",
        "--seed",
        "7",
        "--input-size",
        "64",
    )

    network = Network.objects.get()
    assert (network.random_seed, network.weights, network.is_random) == (7, "", True)


def test_a_corrupt_file_is_a_clear_command_error(tmp_path):
    weights = tmp_path / "broken.pt"
    weights.write_bytes(b"PK\x03\x04 not really a zip")

    with pytest.raises(CommandError, match="corrupt|not a|cannot"):
        call_command(
            "register_network",
            "--name",
            "broken",
            "--arch",
            "mobilenet_v2",
            "--weights",
            str(weights),
        )

    assert Network.objects.count() == 0


def test_an_unknown_project_is_refused_before_loading_anything():
    with pytest.raises(CommandError, match="No project with slug 'nope'"):
        call_command(
            "register_network",
            "--name",
            "net",
            "--arch",
            "mobilenet_v2",
            "--random-weights",
            "--project",
            "nope",
        )

    assert Network.objects.count() == 0


def test_seed_demo_is_idempotent_and_prints_the_login_with_a_fresh_token(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out

    call_command("seed_demo")
    second = capsys.readouterr().out

    login, token = second.splitlines()[-2].split("; API token ")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert login.startswith("demo login: user 'demo'")
    assert first.splitlines()[-2].split("; API token ")[0] == login
    assert first.splitlines()[-1] == second.splitlines()[-1]
    assert client.get("/api/v1/auth/me/").json()["user"]["username"] == "demo"
    assert ApiToken.objects.filter(user__username="demo").count() == 1
    assert Network.objects.get().name == "mobilenet-v2"
    assert ProjectNetwork.objects.get().project.slug == "demo"
