"""An import names people only when they are members of the project it goes into: a file that
names anyone else (a user of another project, or of none) puts nothing in their name."""

import json

import pytest

from annotations.models import Assignment, Circuit, Hypothesis, Review, UnitLink
from annotations.services.imports import taxonomy_import
from tests.annotations.exports.conftest import export_text, unit
from tests.factories.annotations import UserFactory

pytestmark = pytest.mark.django_db

CSV_HEADER = "network,layer,unit,group_path,status,changed_by,changed_at\n"


def run(project, network, owner, content, format):
    return taxonomy_import(
        project=project, network=network, actor=owner, format=format, content=content
    )


def test_hypotheses_and_reviews_by_a_non_member_are_imported_with_no_author_or_reviewer(
    project, new_project, network, owner, taxonomy
):
    # grace reviews in the first project and is no member of the second.
    run(new_project, network, owner, export_text(project, network, "json"), "json")

    assert sorted(
        Hypothesis.objects.filter(project=new_project).values_list("title", "author__username")
    ) == [("Curve detectors", "ada"), ("High-low frequency", None)]
    assert list(
        Review.objects.filter(hypothesis__project=new_project).values_list("reviewer", flat=True)
    ) == [None, None]


def test_a_unit_assigned_by_a_non_member_in_the_csv_export_is_imported_as_by_nobody(
    project, network, owner
):
    UserFactory(username="mallory")
    content = CSV_HEADER + (
        "inception,mixed3b,0,Curves,labelled,mallory,2026-01-01T00:00:00+00:00\n"
        "inception,mixed3b,1,Curves,labelled,ada,2026-01-01T00:00:00+00:00\n"
    )

    run(project, network, owner, content, "csv")

    assert [
        Assignment.objects.get(unit=unit(network, "mixed3b", index)).assigned_by for index in (0, 1)
    ] == [None, owner]


def test_a_json_unit_assigned_by_a_non_member_is_imported_as_by_nobody(
    project, new_project, network, owner, taxonomy
):
    document = json.loads(export_text(project, network, "json"))
    UserFactory(username="mallory")
    document["units"] = [{**row, "assigned_by": "mallory"} for row in document["units"]]

    run(new_project, network, owner, json.dumps(document), "json")

    assert set(
        Assignment.objects.filter(project=new_project).values_list("assigned_by", flat=True)
    ) == {None}


def test_a_circuit_and_a_link_made_by_a_non_member_are_not_in_their_name(
    project, network, owner, taxonomy
):
    UserFactory(username="mallory")
    document = json.loads(export_text(project, network, "json"))
    document["circuits"] = [
        {
            "name": "Curve pair",
            "description": "",
            "created_by": "mallory",
            "nodes": [{"unit": "mixed3b:0", "role": ""}, {"unit": "mixed3b:1", "role": ""}],
            "edges": [],
        }
    ]
    document["links"] = [
        {
            "a": {"group": ["Curves"]},
            "b": {"group": ["Color contrast"]},
            "status": "confirmed",
            "proposed_by": "mallory",
            "reviewed_by": "ada",
        }
    ]

    run(project, network, owner, json.dumps(document), "json")

    assert Circuit.objects.get(name="Curve pair").created_by == owner
    assert UnitLink.objects.values_list("proposed_by", "reviewed_by").get() == (None, owner.pk)
