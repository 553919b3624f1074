import pytest

from annotations.selectors.taxonomy import groups_tree
from tests.factories.annotations import AssignmentFactory, GroupFactory, ProjectFactory
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db


def _totals(nodes):
    return {
        node["name"]: (node["unit_count"], node["total_unit_count"], _totals(node["tree_children"]))
        for node in nodes
    }


def test_a_parent_counts_its_own_units_and_every_descendants():
    project = ProjectFactory()
    units = list(LayerFactory(channels=10).units.order_by("index"))
    early = GroupFactory(project=project, name="Early vision")
    curves = GroupFactory(project=project, name="Curves", parent=early)
    small = GroupFactory(project=project, name="Small curves", parent=curves)
    lines = GroupFactory(project=project, name="Lines", parent=early)
    GroupFactory(project=project, name="Other units")
    for group, taken in (
        (early, units[:1]),
        (curves, units[1:3]),
        (small, units[3:6]),
        (lines, units[6:7]),
    ):
        for unit in taken:
            AssignmentFactory(project=project, group=group, unit=unit)

    tree = groups_tree(project=project)

    assert _totals(tree) == {
        "Early vision": (
            1,
            7,
            {
                "Curves": (2, 5, {"Small curves": (3, 3, {})}),
                "Lines": (1, 1, {}),
            },
        ),
        "Other units": (0, 0, {}),
    }


def test_a_deep_chain_rolls_up_without_recursion():
    project = ProjectFactory()
    unit = LayerFactory(channels=1).units.get()
    parent = None
    for level in range(1200):
        parent = GroupFactory(project=project, parent=parent, name=f"Level {level}")
    AssignmentFactory(project=project, group=parent, unit=unit)

    (root,) = groups_tree(project=project)

    assert (root["unit_count"], root["total_unit_count"]) == (0, 1)
