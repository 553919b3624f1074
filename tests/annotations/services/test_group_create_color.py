"""A group made without a colour takes the first palette colour no group of the project has."""

import pytest

from annotations.colors import PALETTE, color_unused
from annotations.models import Role
from annotations.services.groups import group_create
from tests.factories.annotations import GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def annotator():
    return MembershipFactory(role=Role.ANNOTATOR)


def _create(member, name, **fields):
    return group_create(project=member.project, actor=member.user, name=name, **fields)


def test_new_groups_without_a_colour_each_get_a_different_one(annotator):
    colors = [_create(annotator, f"Group {n}").color for n in range(len(PALETTE))]

    assert colors == list(PALETTE)


def test_a_colour_taken_by_hand_is_skipped(annotator):
    GroupFactory(project=annotator.project, name="Curves", color=PALETTE[0].upper())
    GroupFactory(project=annotator.project, name="Lines", color=PALETTE[2])

    assert [_create(annotator, name).color for name in ("A", "B")] == [PALETTE[1], PALETTE[3]]


def test_a_freed_colour_is_used_again(annotator):
    first = _create(annotator, "Curves")
    _create(annotator, "Lines")
    first.delete()

    assert _create(annotator, "Circles").color == PALETTE[0]


def test_other_projects_colours_do_not_count(annotator):
    GroupFactory(name="Elsewhere", color=PALETTE[0])

    assert _create(annotator, "Curves").color == PALETTE[0]


def test_a_colour_given_is_kept(annotator):
    GroupFactory(project=annotator.project, name="Curves", color="#123456")

    assert _create(annotator, "Lines", color="#123456").color == "#123456"


def test_once_every_colour_is_taken_the_least_used_comes_next():
    used = [*PALETTE, *PALETTE[:3]]

    assert color_unused(used) == PALETTE[3]
