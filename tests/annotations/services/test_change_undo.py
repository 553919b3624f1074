"""Undoing your own direct assignment or merge: a new change that reverses it, never a deleted
event; refused for others' changes, for changes undone already, and when the units moved since."""

import pytest

from annotations.models import Assignment, Event, Group, Role
from annotations.services.groups import group_merge, units_assign
from annotations.services.undo import change_undo, last_undoable
from server.errors import Conflict, PermissionDenied, Unprocessable
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
    return MembershipFactory(role=Role.REVIEWER, user__username="rev")


@pytest.fixture
def project(reviewer):
    return reviewer.project


@pytest.fixture
def colleague(project):
    return MembershipFactory(project=project, role=Role.REVIEWER, user__username="col").user


@pytest.fixture
def layer(project):
    network = ProjectNetworkFactory(project=project).network
    return LayerFactory(network=network, name="mixed3b", channels=4)


@pytest.fixture
def curves(project):
    return GroupFactory(project=project, name="Curves")


@pytest.fixture
def edges(project):
    return GroupFactory(project=project, name="Edges")


def _groups(layer):
    return dict(
        Assignment.objects.filter(unit__layer=layer).values_list("unit__index", "group__name")
    )


def _assign(project, layer, indices, group, actor):
    units_assign(
        project=project,
        network=layer.network,
        addresses=[f"mixed3b:{index}" for index in indices],
        group=group,
        actor=actor,
    )
    return Event.objects.filter(verb__startswith="unit.").latest("id")


def test_undoing_an_assignment_puts_every_unit_back_with_new_events(
    project, reviewer, layer, curves, edges
):
    AssignmentFactory(project=project, unit=layer.units.get(index=1), group=edges)
    event = _assign(project, layer, [0, 1], curves, reviewer.user)
    before = list(Event.objects.values_list("pk", "verb"))

    result = change_undo(project=project, actor=reviewer.user, event_id=event.pk)

    assert result == {"undone": event.pk, "units_changed": 2, "group": None}
    assert _groups(layer) == {1: "Edges"}
    assert list(
        Event.objects.filter(pk__in=[pk for pk, _ in before]).values_list("pk", "verb")
    ) == (before)
    undo_events = Event.objects.exclude(pk__in=[pk for pk, _ in before]).order_by("target_label")
    assert [
        (row.verb, row.target_label, row.actor, row.after["group"], row.after["undoes"])
        for row in undo_events
    ] == [
        ("unit.unassigned", "mixed3b:0", reviewer.user, None, event.after["change"]),
        ("unit.assigned", "mixed3b:1", reviewer.user, edges.pk, event.after["change"]),
    ]


def test_someone_elses_change_is_not_undone(project, reviewer, colleague, layer, curves):
    event = _assign(project, layer, [0], curves, colleague)
    count = Event.objects.count()

    with pytest.raises(PermissionDenied) as raised:
        change_undo(project=project, actor=reviewer.user, event_id=event.pk)

    assert raised.value.code == "not_your_change"
    assert (_groups(layer), Event.objects.count()) == ({0: "Curves"}, count)


def test_units_changed_since_are_named_and_nothing_is_undone(
    project, reviewer, colleague, layer, curves, edges
):
    event = _assign(project, layer, [0, 1, 2], curves, reviewer.user)
    _assign(project, layer, [2], edges, colleague)
    count = Event.objects.count()

    with pytest.raises(Conflict) as raised:
        change_undo(project=project, actor=reviewer.user, event_id=event.pk)

    assert (raised.value.code, raised.value.fields) == ("undo_conflict", {"units": ["mixed3b:2"]})
    assert (_groups(layer), Event.objects.count()) == (
        {0: "Curves", 1: "Curves", 2: "Edges"},
        count,
    )


def test_a_change_is_undone_once(project, reviewer, layer, curves):
    event = _assign(project, layer, [0], curves, reviewer.user)
    change_undo(project=project, actor=reviewer.user, event_id=event.pk)

    with pytest.raises(Conflict) as raised:
        change_undo(project=project, actor=reviewer.user, event_id=event.pk)

    assert raised.value.code == "already_undone"


def test_an_undo_is_not_undone(project, reviewer, layer, curves):
    event = _assign(project, layer, [0], curves, reviewer.user)
    change_undo(project=project, actor=reviewer.user, event_id=event.pk)
    undo_event = Event.objects.latest("id")

    with pytest.raises(Unprocessable) as raised:
        change_undo(project=project, actor=reviewer.user, event_id=undo_event.pk)

    assert raised.value.code == "not_undoable"
    assert _groups(layer) == {}


def test_other_kinds_of_change_are_not_undoable(project, reviewer, curves):
    created = Event.objects.create(
        project=project, actor=reviewer.user, verb="group.created", target_type="group", target_id=1
    )

    with pytest.raises(Unprocessable) as raised:
        change_undo(project=project, actor=reviewer.user, event_id=created.pk)

    assert raised.value.code == "not_undoable"


def test_undoing_a_merge_makes_the_group_again_with_its_subgroups_and_units(
    project, reviewer, layer, curves, edges
):
    unit = layer.units.get(index=0)
    AssignmentFactory(
        project=project, unit=unit, group=curves, note="Clear", source="hypothesis", hypothesis_id=7
    )
    child = GroupFactory(project=project, parent=curves, name="Curves 3a")
    group_merge(group=curves, into=edges, actor=reviewer.user, expected_version=curves.version)
    merged = Event.objects.get(verb="group.merged")

    result = change_undo(project=project, actor=reviewer.user, event_id=merged.pk)

    again = Group.objects.get(pk=result["group"])
    child.refresh_from_db()
    assignment = Assignment.objects.get(unit=unit)
    assert (again.name, again.parent_id, child.parent_id) == ("Curves", None, again.pk)
    assert (assignment.group, assignment.note, assignment.source) == (again, "Clear", "hypothesis")
    unmerged = Event.objects.get(verb="group.unmerged")
    assert (unmerged.target_id, unmerged.after) == (
        again.pk,
        {"undoes": merged.pk, "into": edges.pk, "units": 1, "children": [child.pk]},
    )


def test_the_last_change_is_offered_until_it_is_undone(project, reviewer, layer, curves):
    event = _assign(project, layer, [0, 1], curves, reviewer.user)

    offered = last_undoable(project=project, actor=reviewer.user)
    change_undo(project=project, actor=reviewer.user, event_id=event.pk)

    assert (offered["event"], offered["summary"], sorted(offered["units"])) == (
        event.pk,
        "put 2 units into Curves",
        ["mixed3b:0", "mixed3b:1"],
    )
    assert last_undoable(project=project, actor=reviewer.user) is None


def test_a_last_change_whose_units_moved_since_is_not_offered(
    project, reviewer, colleague, layer, curves, edges
):
    _assign(project, layer, [0], curves, reviewer.user)
    _assign(project, layer, [0], edges, colleague)

    assert last_undoable(project=project, actor=reviewer.user) is None
