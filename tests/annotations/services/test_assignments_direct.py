"""Direct assignment (without a hypothesis): one unit, or many units of one network at once."""

from datetime import UTC, datetime
from unittest.mock import ANY

import pytest
from django.utils import timezone

from annotations.models import Assignment, Event, Role
from annotations.services.groups import unit_assign, units_assign
from server.errors import PermissionDenied, ValidationFailed
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def annotator():
    return MembershipFactory(role=Role.ANNOTATOR)


@pytest.fixture
def layer(annotator):
    network = ProjectNetworkFactory(project=annotator.project).network
    return LayerFactory(network=network, name="mixed3b", channels=8)


@pytest.fixture
def curves(annotator):
    return GroupFactory(project=annotator.project, name="Curves")


def test_a_unit_goes_into_a_group_with_a_note_and_an_event(annotator, layer, curves):
    unit = layer.units.get(index=3)

    assignment = unit_assign(
        project=annotator.project, unit=unit, group=curves, note="Clear", actor=annotator.user
    )

    assert (assignment.unit_id, assignment.group_id, assignment.note, assignment.source) == (
        unit.pk,
        curves.pk,
        "Clear",
        "direct",
    )
    assert list(Event.objects.values_list("verb", "actor", "target_id", "target_label")) == [
        ("unit.assigned", annotator.user.pk, unit.pk, "mixed3b:3")
    ]


def test_none_takes_the_unit_out_of_its_group(annotator, layer, curves):
    unit = layer.units.get(index=3)
    AssignmentFactory(group=curves, unit=unit)

    assignment = unit_assign(project=annotator.project, unit=unit, group=None, actor=annotator.user)

    assert assignment is None
    assert not Assignment.objects.exists()
    assert list(Event.objects.values_list("verb", "before", "after")) == [
        (
            "unit.unassigned",
            {"group": curves.pk},
            {"group": None, "source": "direct", "change": ANY},
        )
    ]


def test_many_units_go_into_a_group_at_once(annotator, layer, curves):
    changed = units_assign(
        project=annotator.project,
        network=layer.network,
        addresses=["mixed3b:0", "mixed3b:5", "mixed3b:7"],
        group=curves,
        actor=annotator.user,
    )

    assert changed == 3
    assert sorted(Assignment.objects.values_list("unit__index", "group")) == [
        (0, curves.pk),
        (5, curves.pk),
        (7, curves.pk),
    ]
    assert Event.objects.filter(verb="unit.assigned").count() == 3


def test_moving_a_unit_to_another_group_sets_assigned_at_to_now(
    annotator, layer, curves, monkeypatch
):
    unit = layer.units.get(index=3)
    earlier = AssignmentFactory(group=GroupFactory(project=annotator.project), unit=unit)
    Assignment.objects.filter(pk=earlier.pk).update(assigned_at=datetime(2020, 1, 1, tzinfo=UTC))
    moment = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)

    assignment = unit_assign(
        project=annotator.project, unit=unit, group=curves, actor=annotator.user
    )

    assert (assignment.group_id, assignment.assigned_at) == (curves.pk, moment)


def test_an_unknown_unit_anywhere_changes_nothing(annotator, layer, curves):
    with pytest.raises(ValidationFailed) as raised:
        units_assign(
            project=annotator.project,
            network=layer.network,
            addresses=["mixed3b:0", "mixed3b:99", "mixed3b:1", "nolayer:2"],
            group=curves,
            actor=annotator.user,
        )

    assert raised.value.fields == {
        "units.1": ["No unit mixed3b:99 in this project."],
        "units.3": ["No unit nolayer:2 in this project."],
    }
    assert not Assignment.objects.exists()
    assert not Event.objects.exists()


def test_a_unit_listed_twice_changes_nothing(annotator, layer, curves):
    with pytest.raises(ValidationFailed) as raised:
        units_assign(
            project=annotator.project,
            network=layer.network,
            addresses=["mixed3b:0", "mixed3b:1", "mixed3b:0"],
            group=curves,
            actor=annotator.user,
        )

    assert raised.value.fields == {"units.2": ["mixed3b:0 is listed twice."]}
    assert not Assignment.objects.exists()


def test_a_viewer_may_not_assign(layer, curves):
    viewer = MembershipFactory(project=curves.project, role=Role.VIEWER)

    with pytest.raises(PermissionDenied) as raised:
        unit_assign(
            project=curves.project, unit=layer.units.first(), group=curves, actor=viewer.user
        )

    assert (raised.value.code, raised.value.detail) == (
        "permission_denied",
        "Your role does not allow assignment.apply.",
    )
    assert not Assignment.objects.exists()
    assert not Event.objects.exists()


def test_when_assignments_need_review_an_annotator_is_told_to_propose_a_hypothesis(
    annotator, layer, curves
):
    annotator.project.assignments_need_review = True

    with pytest.raises(PermissionDenied) as raised:
        units_assign(
            project=annotator.project,
            network=layer.network,
            addresses=["mixed3b:0"],
            group=curves,
            actor=annotator.user,
        )

    assert (raised.value.code, raised.value.detail) == (
        "hypothesis_required",
        "In this project units change group only through reviewed hypotheses; propose a "
        "hypothesis with this assignment instead.",
    )
    assert not Assignment.objects.exists()
    assert not Event.objects.exists()


def test_when_assignments_need_review_an_owner_still_assigns_directly(layer, curves):
    curves.project.assignments_need_review = True
    owner = MembershipFactory(project=curves.project, role=Role.OWNER)

    unit_assign(project=curves.project, unit=layer.units.first(), group=curves, actor=owner.user)

    assert Assignment.objects.values_list("group", flat=True).get() == curves.pk
