import pytest

from annotations.models import Event, Group, Role
from annotations.services.groups import group_delete
from server.errors import Conflict, PermissionDenied, VersionConflict
from tests.factories.annotations import AssignmentFactory, GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    return MembershipFactory(role=Role.REVIEWER)


def test_an_empty_group_is_deleted_and_its_last_state_recorded(reviewer):
    group = GroupFactory(project=reviewer.project, name="Curves", color="#ff0000", version=2)

    group_delete(group=group, actor=reviewer.user, expected_version=2)

    assert not Group.objects.exists()
    assert list(Event.objects.values_list("verb", "actor", "target_id", "before", "after")) == [
        (
            "group.deleted",
            reviewer.user.pk,
            group.pk,
            {
                "name": "Curves",
                "description": "",
                "color": "#ff0000",
                "order": 0,
                "parent": None,
                "layer": None,
            },
            None,
        )
    ]


def test_a_group_with_units_is_not_deleted(reviewer):
    group = AssignmentFactory(group__project=reviewer.project, group__name="Curves").group

    with pytest.raises(Conflict) as raised:
        group_delete(group=group, actor=reviewer.user, expected_version=1)

    assert (raised.value.code, raised.value.detail) == (
        "group_not_empty",
        "Curves still has 1 units and 0 subgroups; move or merge them first.",
    )
    assert Group.objects.values_list("version", flat=True).get(pk=group.pk) == 1
    assert not Event.objects.exists()


def test_a_group_with_subgroups_is_not_deleted(reviewer):
    group = GroupFactory(project=reviewer.project, name="Early vision")
    GroupFactory(project=reviewer.project, parent=group)

    with pytest.raises(Conflict) as raised:
        group_delete(group=group, actor=reviewer.user, expected_version=1)

    assert raised.value.code == "group_not_empty"
    assert Group.objects.count() == 2


def test_a_stale_version_is_a_version_conflict(reviewer):
    group = GroupFactory(project=reviewer.project, version=3)

    with pytest.raises(VersionConflict) as raised:
        group_delete(group=group, actor=reviewer.user, expected_version=2)

    assert raised.value.fields == {"current_version": ["3"]}
    assert Group.objects.exists()


def test_an_annotator_may_not_delete_a_group():
    annotator = MembershipFactory(role=Role.ANNOTATOR)
    group = GroupFactory(project=annotator.project)

    with pytest.raises(PermissionDenied):
        group_delete(group=group, actor=annotator.user, expected_version=1)

    assert Group.objects.exists()
    assert not Event.objects.exists()
