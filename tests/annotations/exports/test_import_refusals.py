"""Acceptance 3: bad imports (unknown unit, duplicate unit, malformed file, wrong network,
colliding group names) are refused with a report naming each bad row, and change nothing."""

import json

import pytest

from annotations.models import Assignment, Event, Group
from annotations.services.imports import taxonomy_import
from server.errors import ValidationFailed
from tests.annotations.exports.conftest import export_text
from tests.factories.annotations import GroupFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory, NetworkFactory

pytestmark = pytest.mark.django_db


def state():
    return (
        list(Group.objects.order_by("pk").values_list("parent", "name", "description", "version")),
        list(Assignment.objects.order_by("pk").values_list("unit", "group", "assigned_by")),
        Event.objects.count(),
    )


def refused(project, network, owner, content, format="csv"):
    before = state()
    with pytest.raises(ValidationFailed) as raised:
        taxonomy_import(
            project=project, network=network, actor=owner, format=format, content=content
        )
    assert state() == before
    assert raised.value.code == "import_invalid"
    return raised.value.fields


def test_unknown_layers_and_units_are_named_by_line(project, network, owner, taxonomy):
    content = (
        "layer,unit,group\n"
        "mixed3b,0,Curves\n"
        "mixed3b,12,Curves\n"
        "mixed9z,1,Curves\n"
        "conv2d0,x,Curves\n"
    )

    fields = refused(project, network, owner, content)

    assert fields == {
        "rows.3": ["No unit mixed3b:12 in inception."],
        "rows.4": ["No layer 'mixed9z' in inception."],
        "rows.5": ["Line 5: unit 'x' is not a unit index."],
    }


def test_a_unit_listed_twice_is_named_at_its_second_line(project, network, owner):
    content = "layer,unit,group\nmixed3b,0,Curves\nmixed3b,1,Curves\nmixed3b,0,Colors\n"

    fields = refused(project, network, owner, content)

    assert fields == {"rows.4": ["mixed3b:0 is listed twice (first at rows.2)."]}


def test_a_unit_listed_twice_in_json_is_named_by_position(
    project, new_project, network, owner, taxonomy
):
    document = json.loads(export_text(project, network, "json"))
    document["units"].append(document["units"][0])

    fields = refused(new_project, network, owner, json.dumps(document), format="json")

    assert fields == {"units.11": ["conv2d0:1 is listed twice (first at units.0)."]}


@pytest.mark.parametrize(
    ("content", "fields"),
    [
        ("", {"file": ["The file is empty."]}),
        ("unit,group\n3,Curves\n", {"rows.1": ["Header 'unit,group' lacks layer."]}),
        ("layer,unit,group\nmixed3b,0\n", {"rows.2": ["Line 2 has 2 columns, not 3."]}),
    ],
)
def test_a_malformed_csv_is_refused(project, network, owner, content, fields):
    assert refused(project, network, owner, content) == fields


def test_a_file_that_is_not_json_is_refused(project, network, owner):
    fields = refused(project, network, owner, '{"format": ', format="json")

    assert list(fields) == ["file"]
    assert fields["file"][0].startswith("Not JSON: Expecting value")


def test_json_that_breaks_the_schema_is_refused_naming_each_place(
    project, new_project, network, owner, taxonomy
):
    document = json.loads(export_text(project, network, "json"))
    document["units"][2]["unit"] = "seven"
    document["groups"][1]["color"] = "red"
    del document["layers"]

    fields = refused(new_project, network, owner, json.dumps(document), format="json")

    assert fields == {
        "file": ["'layers' is a required property"],
        "groups.1.color": ["'red' does not match '^#[0-9a-fA-F]{6}$'"],
        "units.2.unit": ["'seven' is not of type 'integer'"],
    }


def test_a_json_file_of_another_network_is_refused(project, network, owner, taxonomy):
    other = NetworkFactory(name="mobilenet", arch="mobilenet_v2")
    ProjectNetworkFactory(project=project, network=other)
    LayerFactory(network=other, name="mixed3b", channels=12)

    fields = refused(project, other, owner, export_text(project, network, "json"), format="json")

    assert fields == {
        "network": [
            "The file is for network 'inception' (name 'inception', arch 'inception_v1'); this "
            "import is into 'mobilenet' (name 'mobilenet', arch 'mobilenet_v2')."
        ]
    }


def test_csv_export_rows_of_another_network_are_named(project, network, owner, taxonomy):
    content = (
        "network,layer,unit,group_path,status,changed_by,changed_at\n"
        "inception,mixed3b,0,Curves,labelled,,\n"
        "mobilenet,mixed3b,1,Curves,labelled,,\n"
    )

    fields = refused(project, network, owner, content)

    assert fields == {
        "network": ["The file mixes networks: inception, mobilenet."],
        "rows.3": ["Network 'mobilenet' is not 'inception', the one imported into."],
    }


def test_a_bare_group_name_the_file_puts_under_two_parents_is_ambiguous(project, network, owner):
    content = (
        "layer,unit,group,parent_group\n"
        "mixed3b,0,Curves,Early\n"
        "mixed3b,1,Curves,Late\n"
        "mixed3b,2,Curves,\n"
    )

    fields = refused(project, network, owner, content)

    assert fields == {
        "rows.4": [
            "Group 'Curves' is ambiguous: the file has Early / Curves (line 2) and Late / Curves "
            "(line 3); give its parent_group."
        ]
    }


def test_one_path_given_two_descriptions_is_named_at_its_second_line(project, network, owner):
    content = (
        "layer,unit,group,parent_group,description\n"
        "mixed3b,0,Curves,Early,Bent lines.\n"
        "mixed3b,1,Early / Curves,,Round lines.\n"
    )

    fields = refused(project, network, owner, content)

    assert fields == {
        "rows.3": ["Line 3: group 'Early / Curves' is given another description on line 2."]
    }


def test_an_empty_name_inside_a_path_is_named_by_line(project, network, owner):
    content = "layer,unit,group,parent_group\nmixed3b,0,Curves,Early /  / Late\n"

    fields = refused(project, network, owner, content)

    assert fields == {
        "rows.2": [
            "Line 2: parent_group 'Early /  / Late' has an empty name between ` / ` (a slash "
            "inside a name is written \\/)."
        ]
    }


def test_two_groups_placing_each_other_are_a_cycle(project, network, owner):
    content = "layer,unit,group,parent_group\nmixed3b,0,Curves,Lines\nmixed3b,1,Lines,Curves\n"

    fields = refused(project, network, owner, content)

    assert fields == {"rows.2": ["Group 'Lines' is inside itself (a cycle of parents)."]}


def test_an_ambiguous_group_name_needs_its_parent(project, network, owner, taxonomy):
    GroupFactory(project=project, parent=taxonomy["contrast"], name="Curve detectors")

    fields = refused(project, network, owner, "layer,unit,group\nmixed3b,5,Curve detectors\n")

    assert fields == {
        "rows.2": [
            "Group 'Curve detectors' is ambiguous: the project has Color contrast / Curve "
            "detectors and Curves / Curve detectors; give parent_group."
        ]
    }


def test_two_json_groups_of_one_name_under_one_parent_collide(
    project, new_project, network, owner, taxonomy
):
    document = json.loads(export_text(project, network, "json"))
    document["groups"][0]["name"] = "Curves"
    document["groups"][0]["path"] = ["Curves"]

    fields = refused(new_project, network, owner, json.dumps(document), format="json")

    assert fields == {
        "groups.1": [
            "Two groups named 'Curves' under the same parent (groups.0 and groups.1): the "
            "names collide."
        ]
    }


def test_a_unit_outside_its_groups_layer_is_refused(project, network, owner, taxonomy):
    content = "layer,unit,group,parent_group\nconv2d0,0,Curve detectors,Curves\n"

    fields = refused(project, network, owner, content)

    assert fields == {
        "rows.2": ["conv2d0:0 cannot go into Curves / Curve detectors, which is for layer mixed3b."]
    }


def test_a_group_name_too_long_for_a_group_is_refused(project, network, owner):
    content = f"layer,unit,group\nmixed3b,0,{'x' * 121}\n"

    fields = refused(project, network, owner, content)

    assert fields == {"rows.2": ["Line 2: a group name is longer than 120 characters."]}
