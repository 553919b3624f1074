import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotations.models import ProjectNetwork
from tests.factories.annotations import ProjectFactory, ProjectNetworkFactory

pytestmark = pytest.mark.django_db


def _run(*args):
    out = io.StringIO()
    call_command("add_network", *args, stdout=out)
    return out.getvalue()


def _pairs():
    return sorted(ProjectNetwork.objects.values_list("project__slug", "network__name"))


def test_adds_a_registered_network_to_another_project():
    ProjectNetworkFactory(project__slug="first", network__name="mobilenet-v2")
    ProjectFactory(slug="second")

    output = _run("--project", "second", "--network", "mobilenet-v2")

    assert output == "Project 'second' now studies 'mobilenet-v2'.\n"
    assert _pairs() == [("first", "mobilenet-v2"), ("second", "mobilenet-v2")]


def test_refuses_a_network_the_project_already_studies():
    ProjectNetworkFactory(project__slug="first", network__name="mobilenet-v2")

    with pytest.raises(CommandError) as raised:
        _run("--project", "first", "--network", "mobilenet-v2")

    assert str(raised.value) == (
        "The project already studies 'mobilenet-v2'. network: Already in this project."
    )
    assert _pairs() == [("first", "mobilenet-v2")]


def test_refuses_an_unknown_network():
    ProjectFactory(slug="second")

    with pytest.raises(CommandError) as raised:
        _run("--project", "second", "--network", "nowhere")

    assert str(raised.value) == (
        "No registered network 'nowhere' that you may add. network: Unknown network."
    )
    assert _pairs() == []


def test_refuses_an_unknown_project():
    ProjectNetworkFactory(network__name="mobilenet-v2")

    with pytest.raises(CommandError) as raised:
        _run("--project", "nowhere", "--network", "mobilenet-v2")

    assert str(raised.value) == "Unknown project 'nowhere'."
