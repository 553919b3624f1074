import pytest

from annotations.models import Event, Group, Role
from annotations.services.groups import group_update
from server.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, VersionConflict
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
def group(reviewer):
    return GroupFactory(project=reviewer.project, name="Curves", color="#888888", version=3)


def _row(group):
    return Group.objects.values_list(
        "name", "description", "color", "order", "layer", "version"
    ).get(pk=group.pk)


def test_rename_bumps_the_version_and_records_before_and_after(reviewer, group):
    group_update(group=group, actor=reviewer.user, expected_version=3, name="Curve detectors")

    assert _row(group) == ("Curve detectors", "", "#888888", 0, None, 4)
    assert group.version == 4
    assert list(
        Event.objects.values_list("verb", "actor", "target_id", "target_label", "before", "after")
    ) == [
        (
            "group.renamed",
            reviewer.user.pk,
            group.pk,
            "Curve detectors",
            {"name": "Curves"},
            {"name": "Curve detectors"},
        )
    ]


def test_other_edits_are_an_update_listing_only_what_changed(reviewer, group):
    group_update(
        group=group,
        actor=reviewer.user,
        expected_version=3,
        name="Curves",
        color="#00FF00",
        description="Curved edges.",
    )

    assert _row(group) == ("Curves", "Curved edges.", "#00ff00", 0, None, 4)
    assert list(Event.objects.values_list("verb", "before", "after")) == [
        (
            "group.updated",
            {"description": "", "color": "#888888"},
            {"description": "Curved edges.", "color": "#00ff00"},
        )
    ]


def test_a_stale_version_is_a_version_conflict_and_changes_nothing(reviewer, group):
    with pytest.raises(VersionConflict) as raised:
        group_update(group=group, actor=reviewer.user, expected_version=2, name="Mine")

    assert raised.value.fields == {"current_version": ["3"]}
    assert _row(group) == ("Curves", "", "#888888", 0, None, 3)
    assert not Event.objects.exists()


def test_a_change_made_since_loading_is_a_version_conflict(reviewer, group):
    Group.objects.filter(pk=group.pk).update(name="Theirs", version=4)

    with pytest.raises(VersionConflict) as raised:
        group_update(group=group, actor=reviewer.user, expected_version=3, name="Mine")

    assert raised.value.fields == {"current_version": ["4"]}
    assert Group.objects.values_list("name", "version").get(pk=group.pk) == ("Theirs", 4)


def test_a_deleted_group_is_not_found(reviewer, group):
    Group.objects.filter(pk=group.pk).delete()

    with pytest.raises(NotFound):
        group_update(group=group, actor=reviewer.user, expected_version=2, name="Mine")


def test_an_edit_that_changes_nothing_keeps_the_version_and_writes_no_event(reviewer, group):
    group_update(group=group, actor=reviewer.user, expected_version=3, name="Curves")

    assert _row(group)[-1] == 3
    assert not Event.objects.exists()


def test_the_name_of_a_sibling_is_a_conflict(reviewer, group):
    GroupFactory(project=reviewer.project, name="Lines")

    with pytest.raises(Conflict) as raised:
        group_update(group=group, actor=reviewer.user, expected_version=3, name="Lines")

    assert raised.value.code == "name_taken"
    assert _row(group) == ("Curves", "", "#888888", 0, None, 3)
    assert not Event.objects.exists()


def test_a_bad_color_is_refused(reviewer, group):
    with pytest.raises(ValidationFailed) as raised:
        group_update(group=group, actor=reviewer.user, expected_version=3, color="#12345")

    assert raised.value.fields == {"color": ["Write a color as #rrggbb."]}


def test_an_annotator_may_not_edit_a_group(group):
    annotator = MembershipFactory(project=group.project, role=Role.ANNOTATOR)

    with pytest.raises(PermissionDenied):
        group_update(group=group, actor=annotator.user, expected_version=3, name="Mine")

    assert Group.objects.values_list("name", "version").get(pk=group.pk) == ("Curves", 3)
    assert not Event.objects.exists()


def test_a_layer_scope_holding_all_the_group_units_is_set(reviewer, group):
    layer = LayerFactory(network=ProjectNetworkFactory(project=reviewer.project).network)
    AssignmentFactory(group=group, unit=layer.units.first())

    group_update(group=group, actor=reviewer.user, expected_version=3, layer=layer)

    assert _row(group)[4:] == (layer.pk, 4)
    assert list(Event.objects.values_list("verb", "before", "after")) == [
        ("group.updated", {"layer": None}, {"layer": layer.pk})
    ]


def test_a_layer_scope_leaving_units_outside_is_a_conflict(reviewer, group):
    network = ProjectNetworkFactory(project=reviewer.project).network
    layer, other = LayerFactory(network=network), LayerFactory(network=network)
    AssignmentFactory(group=group, unit=other.units.first())

    with pytest.raises(Conflict) as raised:
        group_update(group=group, actor=reviewer.user, expected_version=3, layer=layer)

    assert raised.value.code == "layer_scope_conflict"
    assert _row(group)[4:] == (None, 3)
    assert not Event.objects.exists()


def test_none_lifts_the_layer_scope(reviewer):
    layer = LayerFactory(network=ProjectNetworkFactory(project=reviewer.project).network)
    group = GroupFactory(project=reviewer.project, layer=layer)

    group_update(group=group, actor=reviewer.user, expected_version=1, layer=None)

    assert _row(group)[4:] == (None, 2)
