import pytest

from annotations.models import Comment, CommentRevision, Event, Notification, Role
from annotations.services.comments import comment_delete, comment_edit, comment_post
from server.errors import InvalidTransition, PermissionDenied, VersionConflict
from tests.factories.annotations import CircuitFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return ProjectFactory(slug="curves")


@pytest.fixture(autouse=True)
def _circuits(project):
    """The circuits the comments here are about, named as their notifications read them."""
    for pk in (7, 8):
        CircuitFactory(project=project, pk=pk, name=f"#{pk}")


@pytest.fixture
def ada(project):
    return MembershipFactory(project=project, user__username="ada", role=Role.ANNOTATOR).user


@pytest.fixture
def voss(project):
    return MembershipFactory(project=project, user__username="voss", role=Role.ANNOTATOR).user


@pytest.fixture
def comment(project, ada):
    comment = comment_post(
        project=project, target_type="circuit", target_id="7", body="First take", actor=ada
    )
    Event.objects.all().delete()
    return comment


def _revisions(comment):
    return list(comment.revisions.values_list("body", "editor__username"))


def test_the_author_edits_and_the_old_body_becomes_a_revision(comment, ada):
    edited = comment_edit(comment=comment, body="Second *take*", expected_version=1, actor=ada)

    comment.refresh_from_db()
    assert (comment.body, comment.body_html, comment.version) == (
        "Second *take*",
        "<p>Second <em>take</em></p>\n",
        2,
    )
    assert edited.version == 2
    assert comment.edited_at is not None
    assert _revisions(comment) == [("First take", "ada")]
    assert comment.revisions.get().edited_at == comment.edited_at
    assert list(Event.objects.values_list("verb", "target_id", "before", "after")) == [
        ("comment.edited", comment.pk, {"version": 1}, {"version": 2})
    ]


def test_each_edit_keeps_the_body_it_replaced(comment, ada):
    comment_edit(comment=comment, body="Second", expected_version=1, actor=ada)
    comment_edit(comment=comment, body="Third", expected_version=2, actor=ada)

    assert _revisions(comment) == [("First take", "ada"), ("Second", "ada")]


def test_only_members_mentioned_for_the_first_time_are_notified(project, ada, voss):
    goh = MembershipFactory(project=project, user__username="goh", role=Role.VIEWER).user
    comment = comment_post(
        project=project, target_type="circuit", target_id="7", body="@voss look", actor=ada
    )

    comment_edit(comment=comment, body="@voss and @goh look", expected_version=1, actor=ada)

    assert sorted(Notification.objects.values_list("recipient", "kind")) == sorted(
        [(voss.pk, "mention"), (goh.pk, "mention")]
    )


def test_someone_else_cannot_edit_and_nothing_changes(comment, voss):
    with pytest.raises(PermissionDenied):
        comment_edit(comment=comment, body="Mine now", expected_version=1, actor=voss)

    comment.refresh_from_db()
    assert (comment.body, comment.version) == ("First take", 1)
    assert not CommentRevision.objects.exists()
    assert not Event.objects.exists()


def test_an_owner_cannot_edit_someone_elses_comment(project, comment):
    owner = MembershipFactory(project=project, role=Role.OWNER).user

    with pytest.raises(PermissionDenied):
        comment_edit(comment=comment, body="Fixed", expected_version=1, actor=owner)

    assert Comment.objects.get().body == "First take"


def test_an_edit_of_an_old_version_is_a_conflict_and_changes_nothing(comment, ada):
    comment_edit(comment=comment, body="Second", expected_version=1, actor=ada)

    with pytest.raises(VersionConflict) as error:
        comment_edit(comment=comment, body="Late", expected_version=1, actor=ada)

    assert error.value.fields == {"current_version": ["2"]}
    comment.refresh_from_db()
    assert (comment.body, comment.version) == ("Second", 2)
    assert _revisions(comment) == [("First take", "ada")]


def test_an_edit_that_lost_the_race_is_a_conflict(comment, ada):
    stale_copy = Comment.objects.get(pk=comment.pk)
    comment_edit(comment=comment, body="Second", expected_version=1, actor=ada)

    with pytest.raises(VersionConflict):
        comment_edit(comment=stale_copy, body="Late", expected_version=1, actor=ada)

    assert Comment.objects.get().body == "Second"
    assert Event.objects.filter(verb="comment.edited").count() == 1


def test_a_deleted_comment_cannot_be_edited(comment, ada):
    stale_copy = Comment.objects.get(pk=comment.pk)
    deleted = comment_delete(comment=comment, expected_version=1, actor=ada)

    with pytest.raises(InvalidTransition) as error:
        comment_edit(comment=deleted, body="Back", expected_version=2, actor=ada)
    with pytest.raises(InvalidTransition):
        comment_edit(comment=stale_copy, body="Back", expected_version=1, actor=ada)

    assert error.value.code == "comment_deleted"
    assert Comment.objects.get().body == ""
