import pytest

from annotations.models import Event, Group, Role
from annotations.services.groups import group_create
from server.errors import Conflict, PermissionDenied, ValidationFailed
from tests.factories.annotations import (
    GroupFactory,
    MembershipFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def annotator():
    return MembershipFactory(role=Role.ANNOTATOR)


def test_annotator_creates_a_root_group_and_an_event(annotator):
    group = group_create(
        project=annotator.project,
        actor=annotator.user,
        name="  Curves ",
        description="Respond to *curves*.",
        color="#FFAA00",
        order=2,
    )

    assert Group.objects.values_list(
        "name", "description", "color", "order", "parent", "layer", "version", "created_by"
    ).get() == ("Curves", "Respond to *curves*.", "#ffaa00", 2, None, None, 1, annotator.user.pk)
    assert list(
        Event.objects.values_list(
            "verb", "actor", "target_type", "target_id", "target_label", "after"
        )
    ) == [
        (
            "group.created",
            annotator.user.pk,
            "group",
            group.pk,
            "Curves",
            {
                "name": "Curves",
                "description": "Respond to *curves*.",
                "color": "#ffaa00",
                "order": 2,
                "parent": None,
                "layer": None,
            },
        )
    ]


def test_a_subgroup_goes_under_its_parent(annotator):
    parent = GroupFactory(project=annotator.project, name="Early vision")

    group = group_create(
        project=annotator.project, actor=annotator.user, name="Curves", parent=parent
    )

    assert Group.objects.get(pk=group.pk).parent_id == parent.pk


def test_a_group_may_be_limited_to_a_layer_the_project_studies(annotator):
    layer = LayerFactory(network=ProjectNetworkFactory(project=annotator.project).network)

    group = group_create(
        project=annotator.project, actor=annotator.user, name="Curves", layer=layer
    )

    assert Group.objects.get(pk=group.pk).layer_id == layer.pk


def test_a_layer_of_a_network_the_project_does_not_study_is_refused(annotator):
    with pytest.raises(ValidationFailed) as raised:
        group_create(
            project=annotator.project, actor=annotator.user, name="Curves", layer=LayerFactory()
        )

    assert raised.value.fields == {"layer": ["Not in this project."]}
    assert not Group.objects.exists()


def test_a_sibling_with_the_same_name_is_a_conflict_and_nothing_is_written(annotator):
    parent = GroupFactory(project=annotator.project, name="Early vision")
    GroupFactory(project=annotator.project, parent=parent, name="Curves")

    with pytest.raises(Conflict) as raised:
        group_create(project=annotator.project, actor=annotator.user, name="Curves", parent=parent)

    assert (raised.value.code, raised.value.detail) == (
        "name_taken",
        "A group named 'Curves' already exists there.",
    )
    assert Group.objects.count() == 2
    assert not Event.objects.exists()


def test_a_root_group_with_the_same_name_is_a_conflict(annotator):
    GroupFactory(project=annotator.project, name="Curves")

    with pytest.raises(Conflict) as raised:
        group_create(project=annotator.project, actor=annotator.user, name="Curves")

    assert raised.value.code == "name_taken"
    assert Group.objects.count() == 1


def test_the_same_name_under_another_parent_is_fine(annotator):
    GroupFactory(project=annotator.project, name="Curves")
    parent = GroupFactory(project=annotator.project, name="mixed3b")

    group_create(project=annotator.project, actor=annotator.user, name="Curves", parent=parent)

    assert list(Group.objects.order_by("pk").values_list("name", "parent")) == [
        ("Curves", None),
        ("mixed3b", None),
        ("Curves", parent.pk),
    ]


def test_the_same_name_in_another_project_is_fine(annotator):
    GroupFactory(name="Curves")

    group_create(project=annotator.project, actor=annotator.user, name="Curves")

    assert Group.objects.filter(name="Curves").count() == 2


def test_a_color_that_is_not_rrggbb_is_refused(annotator):
    with pytest.raises(ValidationFailed) as raised:
        group_create(project=annotator.project, actor=annotator.user, name="Curves", color="red")

    assert raised.value.fields == {"color": ["Write a color as #rrggbb."]}
    assert not Group.objects.exists()


def test_a_blank_name_is_refused(annotator):
    with pytest.raises(ValidationFailed) as raised:
        group_create(project=annotator.project, actor=annotator.user, name="  ")

    assert raised.value.fields == {"name": ["This field cannot be blank."]}


def test_a_parent_from_another_project_is_refused(annotator):
    elsewhere = GroupFactory(name="Early vision")

    with pytest.raises(ValidationFailed) as raised:
        group_create(
            project=annotator.project, actor=annotator.user, name="Curves", parent=elsewhere
        )

    assert raised.value.fields == {"parent": ["Not in this project."]}
    assert Group.objects.count() == 1


def test_a_viewer_may_not_create_a_group_and_nothing_is_written():
    viewer = MembershipFactory(role=Role.VIEWER)

    with pytest.raises(PermissionDenied):
        group_create(project=viewer.project, actor=viewer.user, name="Curves")

    assert not Group.objects.exists()
    assert not Event.objects.exists()
