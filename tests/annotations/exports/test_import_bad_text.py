"""Import files whose text the database cannot store, or that only look valid to Python's
``$``, are refused before anything is written: NUL characters (raw or escaped), a colour
with a trailing newline, nesting deeper than any export."""

import json

import pytest

from annotations.models import Group
from annotations.services.imports import taxonomy_import
from server.errors import ValidationFailed
from tests.annotations.exports.conftest import export_text

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
