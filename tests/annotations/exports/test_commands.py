"""``export_taxonomy`` and ``import_taxonomy``: the same exports and imports for scripts."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotations.models import Assignment, Group
from annotations.services.releases import release_create
from tests.annotations.exports.conftest import comparable, export_text, join_team

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


@pytest.mark.parametrize("format", ["json", "csv", "html"])
def test_export_writes_the_file(tmp_path, project, network, taxonomy, format):
    path = tmp_path / f"taxonomy.{format}"

    output = run("export_taxonomy", "--project", "early-vision", "--format", format, "--out", path)

    assert output == (f"wrote the live taxonomy of early-vision/inception (28 units) to {path}\n")
    assert path.read_text().splitlines()[0] == export_text(project, network, format).splitlines()[0]
    assert not list(tmp_path.glob(".*partial"))


def test_export_of_a_release(tmp_path, project, network, owner, taxonomy):
    release_create(project=project, actor=owner, name="v1")
    Assignment.objects.all().delete()
    path = tmp_path / "v1.json"

    run("export_taxonomy", "--project", "early-vision", "--format", "json", "--out", path,
        "--release", "v1")  # fmt: skip

    document = json.loads(path.read_text())
    assert (document["release"]["name"], len(document["units"])) == ("v1", 11)


def test_import_dry_run_then_apply(tmp_path, project, new_project, network, taxonomy):
    path = tmp_path / "taxonomy.json"
    path.write_text(export_text(project, network, "json"))
    join_team(source=project, target=new_project)
    args = ["import_taxonomy", path, "--project", "copy", "--network", "inception"]

    dry = run(*args, "--format", "json", "--dry-run")
    assert not Group.objects.filter(project=new_project).exists()
    applied = run(*args, "--format", "json")
    again = run(*args, "--format", "json")

    assert "  units assigned: 11\n" in dry
    assert dry.endswith("Dry run: would change copy/inception.\n")
    assert applied.endswith("changed copy/inception.\n")
    assert again == "Nothing to change: the project already has this taxonomy.\n"
    assert comparable(json.loads(export_text(new_project, network, "json"))) == comparable(
        json.loads(export_text(project, network, "json"))
    )


def test_import_of_a_bad_file_names_the_rows_and_changes_nothing(tmp_path, project, network):
    path = tmp_path / "groups.csv"
    path.write_text("layer,unit,group\nmixed3b,99,Lines\nnowhere,1,Lines\n")

    with pytest.raises(CommandError) as raised:
        run("import_taxonomy", path, "--project", "early-vision", "--network", "inception",
            "--format", "csv")  # fmt: skip

    assert str(raised.value) == (
        "The file has 2 problems; nothing was imported. rows.2: No unit mixed3b:99 in "
        "inception.; rows.3: No layer 'nowhere' in inception."
    )
    assert not Group.objects.exists()
