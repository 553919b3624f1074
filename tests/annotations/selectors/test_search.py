"""Search over a project: unit notes and circuit names join groups, hypotheses and comments,
one query per kind of hit."""

import pytest

from annotations.selectors.search import project_search
from tests.factories.annotations import (
    AssignmentFactory,
    CircuitFactory,
    CommentFactory,
    GroupFactory,
    HypothesisFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return ProjectFactory(slug="early-vision")


def test_a_unit_is_found_by_a_word_of_its_note(project):
    noted = AssignmentFactory(
        group=GroupFactory(project=project), note="Fires on the rim of every teacup."
    )
    AssignmentFactory(group=GroupFactory(project=project), note="Fires on fur.")

    hits = project_search(project=project, text="teacup")

    assert hits["units"] == [noted]


def test_a_circuit_is_found_by_its_name_or_description(project):
    named = CircuitFactory(project=project, name="Teacup detector")
    described = CircuitFactory(project=project, name="Rims", description="Made of teacup edges.")
    CircuitFactory(project=project, name="Fur")

    hits = project_search(project=project, text="teacup")

    assert sorted(circuit.pk for circuit in hits["circuits"]) == sorted([named.pk, described.pk])


def test_hits_of_another_project_are_never_found(project):
    other = ProjectFactory()
    AssignmentFactory(group=GroupFactory(project=other), note="teacup")
    CircuitFactory(project=other, name="Teacup")

    hits = project_search(project=project, text="teacup")

    assert hits == {"groups": [], "hypotheses": [], "comments": [], "units": [], "circuits": []}


def test_every_kind_is_read_in_one_query_with_what_its_hits_show(
    project, django_assert_num_queries
):
    GroupFactory(project=project, name="Teacups")
    HypothesisFactory(project=project, title="Teacup rims")
    CommentFactory(project=project, body="A teacup again.")
    for number in range(3):
        AssignmentFactory(group=GroupFactory(project=project), note=f"teacup {number}")
        CircuitFactory(project=project, name=f"Teacup {number}")

    with django_assert_num_queries(5):
        hits = project_search(project=project, text="teacup")
        shown = [
            (str(hit.unit.address), hit.unit.layer.network.name, hit.group.name)
            for hit in hits["units"]
        ] + [hit.network.name for hit in hits["circuits"]]

    assert len(shown) == 6
