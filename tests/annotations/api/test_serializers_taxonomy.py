"""Groups and a group's units built from plain values (``group_data``, ``group_tree_data``,
``group_unit_data``) read exactly as their serializers, the responses' schema, give them from
the models."""

import json

import pytest

from annotations.api.serializers_taxonomy import (
    GroupOutputSerializer,
    GroupUnitOutputSerializer,
    group_data,
    group_tree_data,
    group_unit_data,
)
from annotations.models import Assignment
from annotations.selectors.taxonomy import group_units, groups_listed, groups_of, groups_tree
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    """A layer-scoped group by a known author with a unit under a root group with none, and a
    note, a hypothesis and an assigner on the unit."""
    project = ProjectFactory()
    layer = LayerFactory(network=ProjectNetworkFactory(project=project).network, name="mixed3b")
    root = GroupFactory(project=project, name="Early vision", created_by=None)
    curves = GroupFactory(
        project=project,
        name="Curves",
        description="Arcs.",
        color="#1f77b4",
        order=-3,
        parent=root,
        layer=layer,
        created_by=UserFactory(username="chris"),
    )
    AssignmentFactory(
        project=project,
        group=curves,
        unit=layer.units.get(index=2),
        note="A rim.",
        source=Assignment.Source.HYPOTHESIS,
        hypothesis_id=12,
        assigned_by=UserFactory(username="ludwig"),
    )
    AssignmentFactory(project=project, group=curves, unit=layer.units.get(index=1))
    return project


def _json(data):
    return json.loads(json.dumps(data))


def test_a_listed_group_reads_as_the_serializer_gives_it(project):
    from_models = GroupOutputSerializer(groups_of(project=project), many=True).data

    listed = [group_data(row) for row in groups_listed(project=project)]

    assert _json(listed) == _json(from_models)
    assert [(group["name"], group["layer"] and group["layer"]["layer"]) for group in listed] == [
        ("Curves", "mixed3b"),
        ("Early vision", None),
    ]


def test_the_tree_reads_as_its_groups_with_their_totals_and_children(project):
    curves, root = groups_of(project=project)

    tree = group_tree_data(groups_tree(project=project))

    assert _json(tree) == [
        {
            **_json(GroupOutputSerializer(root).data),
            "total_unit_count": 2,
            "children": [
                {
                    **_json(GroupOutputSerializer(curves).data),
                    "total_unit_count": 2,
                    "children": [],
                }
            ],
        }
    ]


def test_a_groups_unit_reads_as_the_serializer_gives_it(project):
    group = project.groups.get(name="Curves")
    assignments = Assignment.objects.filter(group=group).order_by("unit__index")

    listed = [group_unit_data(row) for row in group_units(group=group)]

    assert _json(listed) == _json(GroupUnitOutputSerializer(assignments, many=True).data)
    assert [unit["address"] for unit in listed] == ["mixed3b:1", "mixed3b:2"]
