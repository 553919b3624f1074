import io

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from annotations.models import ProjectDataset
from tests.factories.annotations import ProjectFactory
from workers.models import Dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    generator = np.random.default_rng(0)
    for number in range(3):
        pixels = generator.integers(0, 256, (40, 40, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{number}.png")
    return folder


def _run(*args):
    out = io.StringIO()
    call_command("register_dataset", *args, stdout=out)
    return out.getvalue()


def test_the_command_registers_a_folder_for_a_project(photos):
    project = ProjectFactory(slug="early-vision")

    output = _run("--name", "photos", "--folder", str(photos), "--project", "early-vision")

    dataset = Dataset.objects.get()
    assert output == "registered dataset photos (project early-vision): 3 images\n"
    assert (dataset.name, dataset.public, dataset.image_count) == ("photos", False, 3)
    assert list(ProjectDataset.objects.values_list("project", "dataset")) == [
        (project.pk, dataset.pk)
    ]


def test_the_command_registers_a_public_folder(photos):
    output = _run("--name", "photos", "--folder", str(photos), "--public")

    assert output == "registered dataset photos (public): 3 images\n"
    assert Dataset.objects.get().public is True
    assert ProjectDataset.objects.count() == 0


def test_the_command_needs_a_project_or_public(photos):
    with pytest.raises(CommandError, match="one of the arguments --project --public is required"):
        _run("--name", "photos", "--folder", str(photos))

    assert Dataset.objects.count() == 0


def test_the_command_refuses_an_unknown_project(photos):
    with pytest.raises(CommandError, match="No project with slug 'nowhere'"):
        _run("--name", "photos", "--folder", str(photos), "--project", "nowhere")

    assert Dataset.objects.count() == 0


def test_the_command_refuses_the_reserved_name(photos):
    with pytest.raises(CommandError, match="Invalid dataset name"):
        _run("--name", "demo", "--folder", str(photos), "--public")
