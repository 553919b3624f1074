"""The notebook client's exports, imports and releases against a live server."""

import pytest
from atlas_client import Atlas, AtlasError

from annotations.models import Assignment, Group, Role
from tests.factories.annotations import (
    PASSWORD,
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def owner():
    project = ProjectFactory(slug="early-vision")
    network = ProjectNetworkFactory(project=project, network__name="inception").network
    layer = LayerFactory(network=network, name="mixed3b", order=0, channels=8)
    curves = GroupFactory(project=project, name="Curves")
    AssignmentFactory(project=project, group=curves, unit=layer.units.get(index=2))
    return MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user


@pytest.fixture
def atlas(live_server, owner):
    return Atlas.login(live_server.url, owner.username, PASSWORD)


def test_export_downloads_json_csv_and_a_file(atlas, tmp_path):
    document = atlas.export("early-vision")
    table = atlas.export("early-vision", "csv")
    path = atlas.export("early-vision", "html", path=tmp_path / "overview.html")

    assert [(unit["layer"], unit["unit"]) for unit in document["units"]] == [("mixed3b", 2)]
    assert table.splitlines()[3].startswith("inception,mixed3b,2,Curves,labelled,")
    assert "Curves" in path.read_text()


def test_import_dry_run_then_apply_and_release_diff(atlas):
    csv = "layer,unit,group\nmixed3b,5,Lines\n"

    dry = atlas.import_taxonomy("early-vision", "inception", csv, format="csv", dry_run=True)
    atlas.create_release("early-vision", "v1")
    applied = atlas.import_taxonomy("early-vision", "inception", csv, format="csv")
    atlas.create_release("early-vision", "v2", notes="Lines.")

    diff = atlas.release_diff("early-vision", "v2")
    assert (dry["dry_run"], dry["units_assigned"], applied["units_assigned"]) == (True, 1, 1)
    assert [release["name"] for release in atlas.releases("early-vision")] == ["v2", "v1"]
    assert [group["name"] for group in diff["groups"]["added"]] == ["Lines"]
    assert [(unit["unit"], unit["from"], unit["to"]["name"]) for unit in diff["units"]] == [
        ("mixed3b:5", None, "Lines")
    ]
    assert atlas.export("early-vision", release="v1")["release"]["name"] == "v1"


def test_a_bad_import_raises_atlas_error_naming_the_rows(atlas):
    with pytest.raises(AtlasError) as caught:
        atlas.import_taxonomy(
            "early-vision", "inception", "layer,unit,group\nmixed3b,9,X\n", format="csv"
        )

    assert (caught.value.code, caught.value.fields) == (
        "import_invalid",
        {"rows.2": ["No unit mixed3b:9 in inception."]},
    )
    assert Group.objects.count() == 1
    assert Assignment.objects.count() == 1
