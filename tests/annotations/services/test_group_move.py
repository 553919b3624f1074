import pytest

from annotations.models import Event, Group, Role
from annotations.services.groups import group_move
from server.errors import Conflict, PermissionDenied, ValidationFailed, VersionConflict
from tests.factories.annotations import GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    return MembershipFactory(role=Role.REVIEWER)


@pytest.fixture
def tree(reviewer):
    """early > curves > (curves-3a), and lines at the root."""
    early = GroupFactory(project=reviewer.project, name="Early vision")
    curves = GroupFactory(project=reviewer.project, name="Curves", parent=early)
    curves_3a = GroupFactory(project=reviewer.project, name="Curves 3a", parent=curves)
    lines = GroupFactory(project=reviewer.project, name="Lines")
    return {"early": early, "curves": curves, "curves_3a": curves_3a, "lines": lines}


def _parent_and_version(group):
    return Group.objects.values_list("parent", "version").get(pk=group.pk)


def test_a_group_moves_under_another_and_the_move_is_recorded(reviewer, tree):
    group_move(group=tree["curves"], actor=reviewer.user, expected_version=1, parent=tree["lines"])

    assert _parent_and_version(tree["curves"]) == (tree["lines"].pk, 2)
    assert list(
        Event.objects.values_list("verb", "actor", "target_id", "target_label", "before", "after")
    ) == [
        (
            "group.moved",
            reviewer.user.pk,
            tree["curves"].pk,
            "Curves",
            {"parent": tree["early"].pk},
            {"parent": tree["lines"].pk},
        )
    ]


def test_a_group_moves_to_the_root(reviewer, tree):
    group_move(group=tree["curves"], actor=reviewer.user, expected_version=1, parent=None)

    assert _parent_and_version(tree["curves"]) == (None, 2)


def test_a_move_to_the_same_parent_changes_nothing(reviewer, tree):
    group_move(group=tree["curves"], actor=reviewer.user, expected_version=1, parent=tree["early"])

    assert _parent_and_version(tree["curves"]) == (tree["early"].pk, 1)
    assert not Event.objects.exists()


def test_a_group_cannot_go_under_itself(reviewer, tree):
    with pytest.raises(Conflict) as raised:
        group_move(
            group=tree["curves"], actor=reviewer.user, expected_version=1, parent=tree["curves"]
        )

    assert raised.value.code == "cycle"
    assert _parent_and_version(tree["curves"]) == (tree["early"].pk, 1)


def test_a_group_cannot_go_under_one_of_its_descendants(reviewer, tree):
    with pytest.raises(Conflict) as raised:
        group_move(
            group=tree["early"], actor=reviewer.user, expected_version=1, parent=tree["curves_3a"]
        )

    assert (raised.value.code, raised.value.detail) == (
        "cycle",
        "Curves 3a is inside Early vision; a group cannot go under itself or one of its subgroups.",
    )
    assert _parent_and_version(tree["early"]) == (None, 1)
    assert not Event.objects.exists()


def test_a_parent_in_another_project_is_refused(reviewer, tree):
    elsewhere = GroupFactory(name="Elsewhere")

    with pytest.raises(ValidationFailed) as raised:
        group_move(group=tree["curves"], actor=reviewer.user, expected_version=1, parent=elsewhere)

    assert raised.value.fields == {"parent": ["Not in this project."]}
    assert _parent_and_version(tree["curves"]) == (tree["early"].pk, 1)


def test_a_sibling_of_the_same_name_under_the_new_parent_is_a_conflict(reviewer, tree):
    GroupFactory(project=reviewer.project, name="Curves", parent=tree["lines"])

    with pytest.raises(Conflict) as raised:
        group_move(
            group=tree["curves"], actor=reviewer.user, expected_version=1, parent=tree["lines"]
        )

    assert raised.value.code == "name_taken"
    assert _parent_and_version(tree["curves"]) == (tree["early"].pk, 1)
    assert not Event.objects.exists()


def test_a_stale_version_is_a_version_conflict(reviewer, tree):
    with pytest.raises(VersionConflict):
        group_move(
            group=tree["curves"], actor=reviewer.user, expected_version=7, parent=tree["lines"]
        )

    assert _parent_and_version(tree["curves"]) == (tree["early"].pk, 1)


def test_an_annotator_may_not_move_a_group(tree):
    annotator = MembershipFactory(project=tree["curves"].project, role=Role.ANNOTATOR)

    with pytest.raises(PermissionDenied):
        group_move(
            group=tree["curves"], actor=annotator.user, expected_version=1, parent=tree["lines"]
        )

    assert _parent_and_version(tree["curves"]) == (tree["early"].pk, 1)
    assert not Event.objects.exists()
