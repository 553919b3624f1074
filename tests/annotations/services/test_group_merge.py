from unittest.mock import ANY

import pytest

from annotations.models import Assignment, Event, Group, Role
from annotations.services.groups import group_merge
from server.errors import Conflict, PermissionDenied, ValidationFailed, VersionConflict
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    return MembershipFactory(role=Role.REVIEWER)


@pytest.fixture
def layer(reviewer):
    return LayerFactory(
        network=ProjectNetworkFactory(project=reviewer.project).network, name="mixed3b"
    )


@pytest.fixture
def curves(reviewer):
    return GroupFactory(project=reviewer.project, name="Curves", version=2)


@pytest.fixture
def into(reviewer):
    return GroupFactory(project=reviewer.project, name="Curve detectors")


def _state():
    return (
        sorted(Group.objects.values_list("name", "parent", "version")),
        sorted(Assignment.objects.values_list("unit", "group", "note", "version")),
        Event.objects.count(),
    )


def test_merge_moves_units_and_subgroups_then_deletes_the_group(reviewer, layer, curves, into):
    unit_a, unit_b = layer.units.order_by("index")[:2]
    AssignmentFactory(
        group=curves, unit=unit_a, note="Clear curve", source="hypothesis", hypothesis_id=12
    )
    AssignmentFactory(group=curves, unit=unit_b)
    child = GroupFactory(project=reviewer.project, parent=curves, name="Curves 3a")

    result = group_merge(group=curves, into=into, actor=reviewer.user, expected_version=2)

    assert result.pk == into.pk
    assert not Group.objects.filter(pk=curves.pk).exists()
    assert Group.objects.values_list("parent", "version").get(pk=child.pk) == (into.pk, 2)
    assert list(
        Assignment.objects.order_by("unit").values_list(
            "unit", "group", "note", "source", "hypothesis_id", "version"
        )
    ) == [
        (unit_a.pk, into.pk, "Clear curve", "hypothesis", 12, 2),
        (unit_b.pk, into.pk, "", "direct", None, 2),
    ]
    assert list(
        Event.objects.order_by("pk").values_list(
            "verb", "target_type", "target_id", "target_label", "before", "after"
        )
    ) == [
        (
            "unit.assigned",
            "unit",
            unit_a.pk,
            "mixed3b:0",
            {"group": curves.pk},
            {"group": into.pk, "source": "hypothesis", "change": ANY},
        ),
        (
            "unit.assigned",
            "unit",
            unit_b.pk,
            "mixed3b:1",
            {"group": curves.pk},
            {"group": into.pk, "source": "direct", "change": ANY},
        ),
        ("group.moved", "group", child.pk, "Curves 3a", {"parent": curves.pk}, {"parent": into.pk}),
        (
            "group.merged",
            "group",
            curves.pk,
            "Curves",
            {
                "name": "Curves",
                "description": "",
                "color": "#888888",
                "order": 0,
                "parent": None,
                "layer": None,
            },
            {"into": into.pk, "units": 2, "children": [child.pk]},
        ),
    ]
    assert set(Event.objects.values_list("actor", flat=True)) == {reviewer.user.pk}


def test_a_group_cannot_be_merged_into_itself(reviewer, curves):
    with pytest.raises(ValidationFailed) as raised:
        group_merge(group=curves, into=curves, actor=reviewer.user, expected_version=2)

    assert raised.value.code == "merge_into_self"
    assert Group.objects.filter(pk=curves.pk).exists()


def test_a_group_cannot_be_merged_into_one_of_its_subgroups(reviewer, layer, curves):
    child = GroupFactory(project=reviewer.project, parent=curves, name="Curves 3a")
    AssignmentFactory(group=curves, unit=layer.units.first())
    before = _state()

    with pytest.raises(Conflict) as raised:
        group_merge(group=curves, into=child, actor=reviewer.user, expected_version=2)

    assert raised.value.code == "cycle"
    assert _state() == before


def test_a_target_limited_to_another_layer_is_a_conflict(reviewer, layer, curves):
    other = LayerFactory(network=layer.network, name="mixed4a")
    into = GroupFactory(project=reviewer.project, name="Curves 4a", layer=other)
    AssignmentFactory(group=curves, unit=layer.units.first())
    before = _state()

    with pytest.raises(Conflict) as raised:
        group_merge(group=curves, into=into, actor=reviewer.user, expected_version=2)

    assert (raised.value.code, raised.value.detail) == (
        "layer_scope_conflict",
        "1 units of Curves are outside layer mixed4a, the only layer of Curves 4a; move them "
        "first.",
    )
    assert _state() == before


def test_subgroup_names_already_taken_in_the_target_are_a_conflict(reviewer, curves, into):
    GroupFactory(project=reviewer.project, parent=curves, name="Curves 3a")
    GroupFactory(project=reviewer.project, parent=into, name="Curves 3a")
    before = _state()

    with pytest.raises(Conflict) as raised:
        group_merge(group=curves, into=into, actor=reviewer.user, expected_version=2)

    assert (raised.value.code, raised.value.detail) == (
        "name_taken",
        "Curve detectors already has subgroups named Curves 3a; rename them first.",
    )
    assert _state() == before


def test_a_target_in_another_project_is_refused(reviewer, curves):
    with pytest.raises(ValidationFailed) as raised:
        group_merge(group=curves, into=GroupFactory(), actor=reviewer.user, expected_version=2)

    assert raised.value.fields == {"into": ["Not in this project."]}
    assert Group.objects.filter(pk=curves.pk).exists()


def test_a_stale_version_is_a_version_conflict_and_moves_nothing(reviewer, layer, curves, into):
    AssignmentFactory(group=curves, unit=layer.units.first())
    before = _state()

    with pytest.raises(VersionConflict):
        group_merge(group=curves, into=into, actor=reviewer.user, expected_version=1)

    assert _state() == before


def test_an_annotator_may_not_merge(curves, into):
    annotator = MembershipFactory(project=curves.project, role=Role.ANNOTATOR)
    before = _state()

    with pytest.raises(PermissionDenied):
        group_merge(group=curves, into=into, actor=annotator.user, expected_version=2)

    assert _state() == before
