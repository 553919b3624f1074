import pytest

from annotations.models import Comment, CommentRevision, Event, Role
from annotations.models.comments import DELETED_HTML
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


def _post(project, actor, body, parent=None):
    return comment_post(
        project=project,
        target_type="circuit",
        target_id="7",
        body=body,
        parent=parent,
        actor=actor,
    )


def test_deleting_blanks_the_comment_but_keeps_the_thread_shape(project, ada, voss):
    root = _post(project, ada, "Root")
    reply = _post(project, voss, "Reply", parent=root)
    Event.objects.all().delete()

    deleted = comment_delete(comment=root, expected_version=1, actor=ada)

    assert list(
        Comment.objects.order_by("pk").values_list("pk", "parent", "root", "body", "body_html")
    ) == [
        (root.pk, None, None, "", DELETED_HTML),
        (reply.pk, root.pk, root.pk, "Reply", "<p>Reply</p>\n"),
    ]
    assert deleted.version == 2
    assert deleted.deleted_at is not None
    assert list(Event.objects.values_list("verb", "target_id", "before", "after")) == [
        ("comment.deleted", root.pk, {"version": 1}, {"version": 2})
    ]


def test_deleting_drops_the_revisions_so_the_old_words_are_gone(project, ada):
    comment = _post(project, ada, "Regrettable")
    comment_edit(comment=comment, body="Also regrettable", expected_version=1, actor=ada)

    comment_delete(comment=comment, expected_version=2, actor=ada)

    assert not CommentRevision.objects.exists()


def test_an_owner_deletes_someone_elses_comment(project, ada):
    owner = MembershipFactory(project=project, role=Role.OWNER).user
    comment = _post(project, ada, "Spam")

    comment_delete(comment=comment, expected_version=1, actor=owner)

    assert Comment.objects.get().body == ""


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.REVIEWER, Role.VIEWER])
def test_other_members_cannot_delete_and_nothing_changes(project, ada, role):
    other = MembershipFactory(project=project, role=role).user
    comment = _post(project, ada, "Mine")
    Event.objects.all().delete()

    with pytest.raises(PermissionDenied):
        comment_delete(comment=comment, expected_version=1, actor=other)

    comment.refresh_from_db()
    assert (comment.body, comment.deleted_at, comment.version) == ("Mine", None, 1)
    assert not Event.objects.exists()


def test_deleting_an_old_version_is_a_conflict(project, ada):
    comment = _post(project, ada, "First")
    comment_edit(comment=comment, body="Second", expected_version=1, actor=ada)

    with pytest.raises(VersionConflict):
        comment_delete(comment=comment, expected_version=1, actor=ada)

    assert Comment.objects.get().deleted_at is None


def test_deleting_twice_is_refused(project, ada):
    comment = comment_delete(comment=_post(project, ada, "Gone"), expected_version=1, actor=ada)

    with pytest.raises(InvalidTransition) as error:
        comment_delete(comment=comment, expected_version=2, actor=ada)

    assert error.value.code == "comment_deleted"
    assert Event.objects.filter(verb="comment.deleted").count() == 1
