import pytest

from annotations.models import Comment, Event, Group, Hypothesis, Notification, Role
from annotations.services.comments import comment_post
from server.errors import PermissionDenied, ValidationFailed
from tests.factories.annotations import (
    CircuitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory

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
def unit(project):
    layer = LayerFactory(network__name="inceptionv1", name="mixed3b", channels=4)
    ProjectNetworkFactory(project=project, network=layer.network)
    return layer.units.get(index=3)


def _post(project, actor, body="Curve detector.", parent=None):
    return comment_post(
        project=project,
        target_type="circuit",
        target_id="7",
        body=body,
        parent=parent,
        actor=actor,
    )


def _notifications():
    return sorted(
        Notification.objects.values_list("recipient__username", "kind", "actor__username", "text")
    )


def test_posting_on_a_unit_address_stores_the_rendered_comment_and_an_event(project, ada, unit):
    comment = comment_post(
        project=project,
        target_type="unit",
        target_id="inceptionv1/mixed3b:3",
        body="A **curve** <script>x</script>",
        actor=ada,
    )

    comment.refresh_from_db()
    assert (comment.target_type, comment.target_id, comment.target_label) == (
        "unit",
        unit.pk,
        "inceptionv1/mixed3b:3",
    )
    assert (comment.parent_id, comment.root_id, comment.author, comment.version) == (
        None,
        None,
        ada,
        1,
    )
    assert comment.body == "A **curve** <script>x</script>"
    assert comment.body_html == ("<p>A <strong>curve</strong> &lt;script&gt;x&lt;/script&gt;</p>\n")
    assert list(
        Event.objects.values_list(
            "verb", "target_type", "target_id", "target_label", "actor", "before", "after"
        )
    ) == [
        (
            "comment.posted",
            "comment",
            comment.pk,
            "comment on unit inceptionv1/mixed3b:3",
            ada.pk,
            None,
            {"target_type": "unit", "target_id": unit.pk, "parent": None},
        )
    ]


def test_a_unit_may_also_be_named_by_its_id(project, ada, unit):
    comment = comment_post(
        project=project, target_type="unit", target_id=str(unit.pk), body="Hi", actor=ada
    )

    assert (comment.target_id, comment.target_label) == (unit.pk, "inceptionv1/mixed3b:3")


def test_a_group_target_reads_by_its_name(project, ada):
    group = Group.objects.create(project=project, name="Curves")

    comment = comment_post(
        project=project, target_type="group", target_id=str(group.pk), body="Hi", actor=ada
    )

    assert (comment.target_type, comment.target_id, comment.target_label) == (
        "group",
        group.pk,
        "Curves",
    )


def test_a_hypothesis_target_reads_by_its_title(project, ada, unit):
    hypothesis = Hypothesis.objects.create(
        project=project, network=unit.network, title="Curves come in two families"
    )

    comment = comment_post(
        project=project,
        target_type="hypothesis",
        target_id=str(hypothesis.pk),
        body="Hi",
        actor=ada,
    )

    assert (comment.target_type, comment.target_id, comment.target_label) == (
        "hypothesis",
        hypothesis.pk,
        "Curves come in two families",
    )


@pytest.mark.parametrize(
    ("target_type", "target_id"),
    [
        ("unit", "inceptionv1/mixed3b:99"),
        ("unit", "othernet/mixed3b:3"),
        ("unit", "mixed3b:3"),
        ("group", "999"),
        ("hypothesis", "999"),
        ("circuit", "0"),
        ("circuit", "seven"),
    ],
)
def test_a_target_outside_the_project_is_refused_and_nothing_is_written(
    project, ada, unit, target_type, target_id
):
    LayerFactory(network__name="othernet", name="mixed3b")

    with pytest.raises(ValidationFailed) as error:
        comment_post(
            project=project, target_type=target_type, target_id=target_id, body="Hi", actor=ada
        )

    assert error.value.fields == {"target_id": [f"No {target_type} {target_id!r} in this project."]}
    assert not Comment.objects.exists()
    assert not Event.objects.exists()


def test_a_group_of_another_project_is_not_a_target(project, ada):
    group = Group.objects.create(project=ProjectFactory(), name="Curves")

    with pytest.raises(ValidationFailed):
        comment_post(
            project=project, target_type="group", target_id=str(group.pk), body="Hi", actor=ada
        )

    assert not Comment.objects.exists()


def test_an_unknown_target_type_is_refused(project, ada):
    with pytest.raises(ValidationFailed) as error:
        comment_post(project=project, target_type="layer", target_id="1", body="Hi", actor=ada)

    assert error.value.fields == {"target_type": ["'layer' is not a valid choice."]}
    assert not Comment.objects.exists()


@pytest.mark.parametrize("body", ["", "   \n"])
def test_a_blank_body_is_refused(project, ada, body):
    with pytest.raises(ValidationFailed) as error:
        _post(project, ada, body=body)

    assert error.value.fields == {"body": ["Blank."]}
    assert not Comment.objects.exists()


def test_a_viewer_cannot_comment_and_nothing_is_written(project):
    viewer = MembershipFactory(project=project, role=Role.VIEWER).user

    with pytest.raises(PermissionDenied):
        _post(project, viewer)

    assert not Comment.objects.exists()
    assert not Event.objects.exists()


def test_a_reply_joins_the_thread_of_its_parent(project, ada, voss):
    root = _post(project, ada)
    reply = _post(project, voss, parent=root)
    answer = _post(project, ada, parent=reply)

    assert (reply.parent_id, reply.root_id) == (root.pk, root.pk)
    assert (answer.parent_id, answer.root_id) == (reply.pk, root.pk)


def test_a_reply_on_another_target_is_refused(project, ada):
    root = _post(project, ada)

    with pytest.raises(ValidationFailed) as error:
        comment_post(
            project=project, target_type="circuit", target_id="8", body="Hi", parent=root, actor=ada
        )

    assert error.value.fields == {"parent": [f"Comment {root.pk} is on another target."]}
    assert Comment.objects.count() == 1


def test_mentions_notify_each_member_once_but_not_the_author_or_non_members(project, ada, voss):
    UserFactory(username="ghost")

    comment = _post(project, ada, body="@voss @voss @ghost @ada look")

    assert _notifications() == [("voss", "mention", "ada", "ada mentioned you on circuit #7")]
    assert set(Notification.objects.values_list("target_type", "target_id")) == {
        ("comment", comment.pk)
    }
    assert comment.body_html == (
        '<p><span class="mention">@voss</span> <span class="mention">@voss</span> @ghost '
        '<span class="mention">@ada</span> look</p>\n'
    )


def test_a_reply_notifies_earlier_participants_but_not_its_author(project, ada, voss):
    goh = MembershipFactory(project=project, user__username="goh", role=Role.REVIEWER).user
    root = _post(project, ada)
    _post(project, voss, parent=root)
    Notification.objects.all().delete()

    _post(project, goh, parent=root)

    assert _notifications() == [
        ("ada", "reply", "goh", "goh replied in a thread on circuit #7"),
        ("voss", "reply", "goh", "goh replied in a thread on circuit #7"),
    ]


def test_a_participant_who_is_also_mentioned_is_notified_once_as_mentioned(project, ada, voss):
    root = _post(project, ada)

    _post(project, voss, body="@ada agreed", parent=root)

    assert _notifications() == [("ada", "mention", "voss", "voss mentioned you on circuit #7")]


def test_a_participant_who_left_the_project_is_not_notified(project, ada, voss):
    root = _post(project, ada)
    ada.memberships.all().delete()

    _post(project, voss, parent=root)

    assert _notifications() == []
