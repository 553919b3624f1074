import pytest

from annotations.models import Comment, CommentRevision, Event, Notification, Role
from annotations.models.comments import DELETED_HTML
from tests.factories.annotations import (
    CommentFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db

COMMENTS = "/api/v1/projects/curves/comments/"
ON_UNIT = {"target_type": "unit", "target_id": "inceptionv1/mixed3b:3"}


@pytest.fixture
def project():
    project = ProjectFactory(slug="curves")
    layer = LayerFactory(network__name="inceptionv1", name="mixed3b", channels=4)
    ProjectNetworkFactory(project=project, network=layer.network)
    return project


@pytest.fixture
def unit(project):
    return project.network_links.get().network.units.get(index=3)


@pytest.fixture
def ada(api_client, project):
    ada = MembershipFactory(project=project, user__username="ada", role=Role.ANNOTATOR).user
    api_client.force_authenticate(ada)
    return ada


@pytest.fixture
def voss(project):
    return MembershipFactory(project=project, user__username="voss", role=Role.ANNOTATOR).user


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _json(comment):
    comment.refresh_from_db()
    return {
        "id": comment.pk,
        "target_type": comment.target_type,
        "target_id": comment.target_id,
        "target_label": comment.target_label,
        "parent": comment.parent_id,
        "thread": comment.thread_root_id,
        "author": comment.author.username,
        "body": comment.body,
        "body_html": comment.body_html,
        "version": comment.version,
        "created_at": _iso(comment.created_at),
        "edited_at": _iso(comment.edited_at),
        "deleted_at": _iso(comment.deleted_at),
        "resolved_at": _iso(comment.resolved_at),
        "resolved_by": comment.resolved_by and comment.resolved_by.username,
    }


def _detail(comment, suffix=""):
    return f"{COMMENTS}{comment.pk}/{suffix}"


def _unit_comment(project, unit, author, **fields):
    return CommentFactory(
        project=project,
        target_type="unit",
        target_id=unit.pk,
        target_label="inceptionv1/mixed3b:3",
        author=author,
        **fields,
    )


def test_list_gives_each_thread_with_its_replies(api_client, project, unit, ada, voss):
    root = _unit_comment(project, unit, ada, body="Curve?")
    reply = CommentFactory(parent=root, author=voss, body="Yes")
    answer = CommentFactory(parent=reply, author=ada, body="Thanks")
    _unit_comment(project, project.network_links.get().network.units.get(index=2), ada)

    response = api_client.get(COMMENTS, ON_UNIT)

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [{**_json(root), "replies": [_json(reply), _json(answer)]}],
    }
    assert response.json()["results"][0]["replies"][1] == {
        **_json(answer),
        "parent": reply.pk,
        "thread": root.pk,
        "author": "ada",
        "body": "Thanks",
        "body_html": "<p>Thanks</p>\n",
    }


def test_list_costs_the_same_queries_for_many_threads(
    api_client, project, unit, ada, voss, django_assert_num_queries
):
    for _ in range(4):
        root = _unit_comment(project, unit, ada, resolved_by=voss)
        CommentFactory.create_batch(2, parent=root, author=voss)

    # project, role check, unit, count, threads with authors, replies with authors
    with django_assert_num_queries(5):
        response = api_client.get(COMMENTS, ON_UNIT)

    assert response.json()["count"] == 4


def test_list_needs_a_target(api_client, project, ada):
    response = api_client.get(COMMENTS)

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "target_type": ["This field is required."],
        "target_id": ["This field is required."],
    }


def test_list_on_an_unknown_unit_is_a_422(api_client, project, ada):
    response = api_client.get(COMMENTS, {"target_type": "unit", "target_id": "inceptionv1/x:1"})

    assert response.status_code == 422
    assert response.json() == {
        "detail": "No unit 'inceptionv1/x:1' in this project.",
        "code": "unknown_reference",
        "fields": {"target_id": ["No unit 'inceptionv1/x:1' in this project."]},
    }


def test_post_starts_a_thread_with_an_etag(api_client, project, unit, ada):
    response = api_client.post(COMMENTS, {**ON_UNIT, "body": "A *curve*"})

    assert response.status_code == 201
    comment = Comment.objects.get()
    assert response["ETag"] == '"1"'
    assert response.json() == _json(comment)
    assert (comment.target_id, comment.body_html) == (unit.pk, "<p>A <em>curve</em></p>\n")


def test_scripts_event_handlers_and_javascript_links_come_back_neutralized(
    api_client, project, unit, ada
):
    body = (
        "<script>alert(1)</script> <img src=x onerror=alert(2)> "
        "[a](javascript:alert(3)) [b](JAVASCRIPT:alert(4)) <b onclick=alert(5)>x</b>"
    )
    neutral = (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt; "
        "[a](javascript:alert(3)) [b](JAVASCRIPT:alert(4)) "
        "&lt;b onclick=alert(5)&gt;x&lt;/b&gt;</p>\n"
    )

    posted = api_client.post(COMMENTS, {**ON_UNIT, "body": body})
    listed = api_client.get(COMMENTS, ON_UNIT)

    assert posted.json()["body_html"] == neutral
    assert listed.json()["results"][0]["body_html"] == neutral
    assert listed.json()["results"][0]["body"] == body


def test_a_reply_notifies_the_thread_and_mentions_notify_members(api_client, project, unit, ada):
    voss = MembershipFactory(project=project, user__username="voss", role=Role.VIEWER).user
    goh = MembershipFactory(project=project, user__username="goh", role=Role.REVIEWER).user
    root = _unit_comment(project, unit, goh)

    response = api_client.post(COMMENTS, {**ON_UNIT, "body": "@voss see", "parent": root.pk})

    assert response.status_code == 201
    assert (response.json()["parent"], response.json()["thread"]) == (root.pk, root.pk)
    assert sorted(Notification.objects.values_list("recipient", "kind")) == sorted(
        [(voss.pk, "mention"), (goh.pk, "reply")]
    )


def test_a_reply_to_an_unknown_comment_is_a_422(api_client, project, ada):
    response = api_client.post(COMMENTS, {**ON_UNIT, "body": "Hi", "parent": 999})

    assert response.status_code == 422
    assert response.json()["fields"] == {"parent": ["No comment 999 in this project."]}
    assert not Comment.objects.exists()


@pytest.mark.parametrize("role", [Role.OWNER, Role.REVIEWER, Role.ANNOTATOR])
def test_writers_comment(api_client, project, unit, role):
    api_client.force_authenticate(MembershipFactory(project=project, role=role).user)

    response = api_client.post(COMMENTS, {**ON_UNIT, "body": "Hi"})

    assert response.status_code == 201
    assert Comment.objects.count() == 1


def test_a_viewer_cannot_comment_and_nothing_is_written(api_client, project, unit):
    viewer = MembershipFactory(project=project, role=Role.VIEWER).user
    api_client.force_authenticate(viewer)

    response = api_client.post(COMMENTS, {**ON_UNIT, "body": "Hi"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Comment.objects.exists()
    assert not Event.objects.exists()


def test_a_non_member_gets_404_for_everything(api_client, project, unit, voss):
    comment = _unit_comment(project, unit, voss)
    api_client.force_authenticate(MembershipFactory().user)

    responses = [
        api_client.get(COMMENTS, ON_UNIT),
        api_client.post(COMMENTS, {**ON_UNIT, "body": "Hi"}),
        api_client.get(_detail(comment)),
        api_client.patch(_detail(comment), {"body": "Hi"}, HTTP_IF_MATCH='"1"'),
        api_client.delete(_detail(comment), HTTP_IF_MATCH='"1"'),
        api_client.get(_detail(comment, "revisions/")),
        api_client.post(_detail(comment, "resolve/")),
    ]

    assert [response.status_code for response in responses] == [404] * 7
    assert Comment.objects.get().body == "Looks like a curve detector."


def test_anonymous_requests_are_refused(api_client, project):
    assert api_client.get(COMMENTS, ON_UNIT).status_code == 401


def test_a_comment_of_another_project_is_not_found(api_client, project, ada):
    other = CommentFactory()

    assert api_client.get(f"{COMMENTS}{other.pk}/").status_code == 404


def test_detail_sends_the_etag(api_client, project, unit, ada):
    comment = _unit_comment(project, unit, ada)

    response = api_client.get(_detail(comment))

    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    assert response.json() == _json(comment)


def test_edit_without_if_match_is_a_428_and_changes_nothing(api_client, project, unit, ada):
    comment = _unit_comment(project, unit, ada)

    response = api_client.patch(_detail(comment), {"body": "New"})

    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"
    assert Comment.objects.get().version == 1


def test_edit_with_a_stale_etag_is_a_412_and_changes_nothing(api_client, project, unit, ada):
    comment = _unit_comment(project, unit, ada, version=2)

    response = api_client.patch(_detail(comment), {"body": "New"}, HTTP_IF_MATCH='"1"')

    assert response.status_code == 412
    assert response.json()["fields"] == {"current_version": ["2"]}
    assert Comment.objects.get().body == "Looks like a curve detector."
    assert not CommentRevision.objects.exists()


def test_edit_with_the_current_etag_keeps_a_revision(api_client, project, unit, ada):
    comment = _unit_comment(project, unit, ada, body="Old")

    response = api_client.patch(_detail(comment), {"body": "**New**"}, HTTP_IF_MATCH='"1"')
    revisions = api_client.get(_detail(comment, "revisions/"))

    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert response.json() == _json(comment)
    assert response.json()["body_html"] == "<p><strong>New</strong></p>\n"
    revision = CommentRevision.objects.get()
    assert revisions.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [{"body": "Old", "edited_at": _iso(revision.edited_at), "editor": "ada"}],
    }


def test_someone_else_cannot_edit(api_client, project, unit, ada, voss):
    comment = _unit_comment(project, unit, voss)

    response = api_client.patch(_detail(comment), {"body": "Mine"}, HTTP_IF_MATCH='"1"')

    assert response.status_code == 403
    assert Comment.objects.get().body == "Looks like a curve detector."


def test_delete_needs_if_match(api_client, project, unit, ada):
    comment = _unit_comment(project, unit, ada)

    response = api_client.delete(_detail(comment))

    assert response.status_code == 428
    assert Comment.objects.get().deleted_at is None


def test_a_deleted_root_keeps_its_place_with_its_replies(api_client, project, unit, ada, voss):
    root = _unit_comment(project, unit, ada)
    reply = CommentFactory(parent=root, author=voss, body="Reply")

    deleted = api_client.delete(_detail(root), HTTP_IF_MATCH='"1"')
    listed = api_client.get(COMMENTS, ON_UNIT)

    assert deleted.status_code == 200
    assert deleted["ETag"] == '"2"'
    assert (deleted.json()["body"], deleted.json()["body_html"]) == ("", DELETED_HTML)
    assert listed.json()["results"] == [{**_json(root), "replies": [_json(reply)]}]


def test_resolve_and_reopen_a_thread(api_client, project, unit, ada):
    root = _unit_comment(project, unit, ada)

    resolved = api_client.post(_detail(root, "resolve/"))
    again = api_client.post(_detail(root, "resolve/"))
    reopened = api_client.post(_detail(root, "reopen/"))

    assert resolved.status_code == 200
    assert (resolved.json()["resolved_by"], resolved["ETag"]) == ("ada", '"2"')
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert reopened.status_code == 200
    assert reopened.json() == _json(root)
    assert (reopened.json()["resolved_at"], reopened["ETag"]) == (None, '"3"')


def test_a_reply_cannot_be_resolved(api_client, project, unit, ada):
    reply = CommentFactory(parent=_unit_comment(project, unit, ada), author=ada)

    response = api_client.post(_detail(reply, "resolve/"))

    assert response.status_code == 400
    assert response.json()["code"] == "not_thread_root"
