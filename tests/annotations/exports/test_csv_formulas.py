"""The CSV export against formula injection: a cell of user text that a spreadsheet would run
(a group or a username starting with ``=``, ``+``, ``-``, ``@``) starts with a quote, the unit
index stays a number, and importing the file gives back the names as they were."""

import csv
import io

import pytest

from annotations.models import Assignment, Group, Role
from annotations.services.imports import taxonomy_import
from tests.annotations.exports.conftest import comparable_csv, export_text, join_team, unit
from tests.factories.annotations import AssignmentFactory, GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db

NAMES = ['=WEBSERVICE("evil.example")', "+1", "-2", "@SUM(1)"]


@pytest.fixture
def formulas(project, network):
    """Four groups named like formulas, a unit in each, assigned by ``@mallory``."""
    mallory = MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="@mallory")
    for index, name in enumerate(NAMES):
        AssignmentFactory(
            project=project,
            group=GroupFactory(project=project, name=name),
            unit=unit(network, "mixed3b", index),
            assigned_by=mallory.user,
        )


def test_text_cells_that_start_like_formulas_are_quoted_and_the_index_is_a_number(
    project, network, formulas
):
    rows = list(csv.reader(io.StringIO(export_text(project, network, "csv"))))

    assert [row[:6] for row in rows if row[1] == "mixed3b" and row[3]] == [
        ["inception", "mixed3b", "0", "'" + NAMES[0], "labelled", "'@mallory"],
        ["inception", "mixed3b", "1", "'+1", "labelled", "'@mallory"],
        ["inception", "mixed3b", "2", "'-2", "labelled", "'@mallory"],
        ["inception", "mixed3b", "3", "'@SUM(1)", "labelled", "'@mallory"],
    ]


def test_importing_the_exported_csv_gives_back_the_names_and_who_assigned(
    project, new_project, network, owner, formulas
):
    exported = export_text(project, network, "csv")
    join_team(source=project, target=new_project)

    taxonomy_import(
        project=new_project, network=network, actor=owner, format="csv", content=exported
    )

    assert sorted(Group.objects.filter(project=new_project).values_list("name", flat=True)) == (
        sorted(NAMES)
    )
    assert set(
        Assignment.objects.filter(project=new_project).values_list("assigned_by__username")
    ) == {("@mallory",)}
    assert comparable_csv(export_text(new_project, network, "csv")) == comparable_csv(exported)
