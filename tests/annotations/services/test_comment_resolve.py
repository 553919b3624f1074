import pytest

from annotations.models import Comment, Event, Role
from annotations.services.comments import comment_post, thread_reopen, thread_resolve
from server.errors import InvalidTransition, PermissionDenied, ValidationFailed
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
def root(project, ada):
    root = comment_post(
        project=project, target_type="circuit", target_id="7", body="Is this a curve?", actor=ada
    )
    Event.objects.all().delete()
    return root


def _state(comment):
    comment.refresh_from_db()
    return comment.resolved_at is not None, comment.resolved_by, comment.version


def test_the_author_of_the_root_resolves_the_thread(root, ada):
    resolved = thread_resolve(comment=root, actor=ada)

    assert _state(root) == (True, ada, 2)
    assert resolved.version == 2
    assert list(Event.objects.values_list("verb", "target_id", "before", "after")) == [
        ("thread.resolved", root.pk, {"resolved": False}, {"resolved": True})
    ]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.OWNER])
def test_reviewers_and_owners_resolve_anyones_thread(project, root, role):
    reviewer = MembershipFactory(project=project, role=role).user

    thread_resolve(comment=root, actor=reviewer)

    assert _state(root) == (True, reviewer, 2)


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.VIEWER])
def test_other_members_cannot_resolve_and_nothing_changes(project, root, role):
    other = MembershipFactory(project=project, role=role).user

    with pytest.raises(PermissionDenied):
        thread_resolve(comment=root, actor=other)

    assert _state(root) == (False, None, 1)
    assert not Event.objects.exists()


def test_a_reply_cannot_be_resolved(project, root, ada):
    reply = comment_post(
        project=project, target_type="circuit", target_id="7", body="Yes", parent=root, actor=ada
    )

    with pytest.raises(ValidationFailed) as error:
        thread_resolve(comment=reply, actor=ada)

    assert error.value.code == "not_thread_root"
    assert not Comment.objects.filter(resolved_at__isnull=False).exists()


def test_resolving_a_resolved_thread_is_refused(root, ada):
    thread_resolve(comment=root, actor=ada)

    with pytest.raises(InvalidTransition):
        thread_resolve(comment=root, actor=ada)

    assert _state(root) == (True, ada, 2)
    assert Event.objects.count() == 1


def test_reopening_clears_the_resolution(root, ada):
    thread_resolve(comment=root, actor=ada)

    thread_reopen(comment=root, actor=ada)

    assert _state(root) == (False, None, 3)
    assert list(Event.objects.order_by("id").values_list("verb", flat=True)) == [
        "thread.resolved",
        "thread.reopened",
    ]


def test_reopening_an_open_thread_is_refused(root, ada):
    with pytest.raises(InvalidTransition):
        thread_reopen(comment=root, actor=ada)

    assert _state(root) == (False, None, 1)
    assert not Event.objects.exists()
