"""Import files whose text the database cannot store, or that only look valid to Python's
``$``, are refused before anything is written: NUL characters (raw or escaped), a colour
with a trailing newline, nesting deeper than any export."""

import json
from functools import reduce
from operator import getitem

import pytest

from annotations.models import Group
from annotations.services.imports import taxonomy_import
from server import text_limits
from server.errors import ValidationFailed
from tests.annotations.exports.conftest import SCHEMA, export_text

pytestmark = pytest.mark.django_db


def refusal(project, network, owner, content, format):
    groups_before = list(Group.objects.values_list("pk", "name", "description", "color"))
    with pytest.raises(ValidationFailed) as raised:
        taxonomy_import(
            project=project, network=network, actor=owner, format=format, content=content
        )
    assert list(Group.objects.values_list("pk", "name", "description", "color")) == groups_before
    return raised.value


def test_a_csv_holding_a_nul_character_is_refused_naming_its_line(project, network, owner):
    content = "layer,unit,group,parent_group,description\nmixed3b,0,Curves,,fine\n"
    content += "mixed3b,1,Curves,,bad\x00text\n"

    error = refusal(project, network, owner, content, "csv")

    assert error.code == "import_invalid"
    assert error.fields == {"file": ["The file holds a NUL character (line 3)."]}


def test_a_json_description_with_an_escaped_nul_is_refused_naming_the_field(
    project, network, owner, taxonomy
):
    document = json.loads(export_text(project, network, "json"))
    document["groups"][0]["description"] = "bad\x00text"

    error = refusal(project, network, owner, json.dumps(document), "json")

    assert error.code == "import_invalid"
    assert error.fields == {
        "groups.0.description": ["Text may not contain NUL (\\u0000) characters."]
    }


def test_a_json_colour_with_a_trailing_newline_is_refused(project, network, owner, taxonomy):
    document = json.loads(export_text(project, network, "json"))
    document["groups"][0]["color"] = "#AABBCC\n"

    error = refusal(project, network, owner, json.dumps(document), "json")

    assert error.code == "import_invalid"
    assert error.fields == {"groups.0": ["color '#AABBCC\\n' is not written #rrggbb."]}


def test_json_nested_past_the_interpreters_limit_is_refused(project, network, owner):
    error = refusal(project, network, owner, "[" * 100_000 + "]" * 100_000, "json")

    assert error.code == "import_invalid"
    assert list(error.fields) == ["file"]


def test_a_json_description_over_the_limit_is_refused(project, network, owner, taxonomy):
    document = json.loads(export_text(project, network, "json"))
    document["groups"][0]["description"] = "x" * (text_limits.DESCRIPTION + 1)

    error = refusal(project, network, owner, json.dumps(document), "json")

    assert error.code == "import_invalid"
    assert list(error.fields) == ["groups.0.description"]


def test_a_json_unit_note_over_the_limit_is_refused(project, network, owner, taxonomy):
    document = json.loads(export_text(project, network, "json"))
    document["units"][0]["note"] = "x" * (text_limits.NOTE + 1)

    error = refusal(project, network, owner, json.dumps(document), "json")

    assert error.code == "import_invalid"
    assert list(error.fields) == ["units.0.note"]


def test_a_simple_csv_description_over_the_limit_is_refused(project, network, owner):
    content = "layer,unit,group,parent_group,description\n"
    content += f"mixed3b,0,Curves,,{'x' * (text_limits.DESCRIPTION + 1)}\n"

    error = refusal(project, network, owner, content, "csv")

    assert error.code == "import_invalid"
    assert error.fields == {
        "rows.2": [f"Line 2: the description is longer than {text_limits.DESCRIPTION} characters."]
    }


@pytest.mark.parametrize(
    ("pointer", "limit"),
    [
        ("/properties/release/oneOf/1/properties/notes", text_limits.DESCRIPTION),
        ("/properties/groups/items/properties/description", text_limits.DESCRIPTION),
        ("/properties/units/items/properties/note", text_limits.NOTE),
        ("/properties/hypotheses/items/properties/text", text_limits.BODY),
        (
            "/properties/hypotheses/items/properties/reviews/items/properties/comment",
            text_limits.DESCRIPTION,
        ),
        ("/properties/circuits/items/properties/description", text_limits.DESCRIPTION),
        (
            "/properties/circuits/items/properties/nodes/items/properties/role",
            text_limits.NOTE,
        ),
        ("/properties/links/items/properties/note", text_limits.NOTE),
        ("/properties/links/items/properties/review_note", text_limits.NOTE),
    ],
)
def test_the_file_schema_bounds_text_as_the_api_does(pointer, limit):
    steps = [int(step) if step.isdigit() else step for step in pointer.split("/")[1:]]

    assert reduce(getitem, steps, SCHEMA)["maxLength"] == limit
