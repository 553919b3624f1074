"""Use cases of discussion: post, edit, delete comments; resolve and reopen threads.

Bodies are markdown, rendered and sanitized once when written. Mentioning ``@username`` of a
project member notifies them ("mention"); a reply notifies the thread's earlier participants
("reply"); nobody is notified about their own comment or twice about one comment. Events
name the comment but never copy its text, so that deleting a comment removes its words from
everywhere (its revisions go with it).
"""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from annotations.formats.markdown import mentioned_usernames, render_markdown
from annotations.models import Comment, CommentRevision, Membership, Notification
from annotations.models.comments import BODY_MAX_LENGTH, DELETED_HTML
from annotations.policies import authorize
from annotations.selectors.comments import comment_target_resolve
from annotations.services.events import event_log
from annotations.services.grid_changes import project_changed
from annotations.services.notifications import notify
from annotations.services.unit_counts import unit_counts_add
from server.concurrency import stale
from server.errors import InvalidTransition, NotFound, ValidationFailed


def comment_post(*, project, target_type, target_id, body, parent=None, actor):
    """Start a thread on a target of ``project``, or answer ``parent`` (a comment on the
    same target). ``target_id`` as in ``comment_target_resolve``."""
    authorize(actor=actor, action="comment.create", obj=project)
    _check_body(body)
    target = comment_target_resolve(project=project, target_type=target_type, target_id=target_id)
    if parent is not None and (parent.target_type, parent.target_id) != (target.type, target.id):
        raise ValidationFailed(
            "A reply must be on the same target as the comment it answers.",
            fields={"parent": [f"Comment {parent.pk} is on another target."]},
        )
    members = mentioned_members(project, body)
    with transaction.atomic():
        comment = Comment.objects.create(
            project=project,
            target_type=target.type,
            target_id=target.id,
            target_label=target.label,
            parent=parent,
            root_id=parent and parent.thread_root_id,
            author=actor,
            body=body,
            body_html=render_markdown(body, members=members),
        )
        _count(comment, 1)
        _record(
            comment,
            actor,
            "comment.posted",
            after={"target_type": target.type, "target_id": target.id, "parent": comment.parent_id},
        )
        mentioned = set(members.values())
        _notify(comment, actor, Notification.Kind.MENTION, mentioned, "mentioned you")
        if parent is not None:
            participants = _participants(parent.thread_root_id) - mentioned
            _notify(comment, actor, Notification.Kind.REPLY, participants, "replied in a thread")
    return comment


def comment_edit(*, comment, body, expected_version, actor):
    """Replace the body of ``comment`` (its author only), keeping the old body as a revision;
    members mentioned for the first time are notified."""
    authorize(actor=actor, action="comment.update", obj=comment)
    _check_body(body)
    _check_version(comment, expected_version)
    members = mentioned_members(comment.project, body)
    already = set(mentioned_members(comment.project, comment.body).values())
    now = timezone.now()
    with transaction.atomic():
        updated = _alive(comment, expected_version).update(
            body=body,
            body_html=render_markdown(body, members=members),
            edited_at=now,
            version=F("version") + 1,
        )
        if not updated:
            raise _lost_race(comment)
        # The row was at the version we read, so ``comment.body`` is what it said until now.
        CommentRevision.objects.create(
            comment=comment, body=comment.body, edited_at=now, editor=actor
        )
        comment.refresh_from_db()
        _record(
            comment,
            actor,
            "comment.edited",
            before={"version": expected_version},
            after={"version": comment.version},
        )
        new = set(members.values()) - already
        _notify(comment, actor, Notification.Kind.MENTION, new, "mentioned you")
    return comment


def comment_delete(*, comment, expected_version, actor):
    """Blank ``comment`` (its author or a project owner) and drop its revisions; the row stays
    so the thread keeps its shape."""
    authorize(actor=actor, action="comment.delete", obj=comment)
    _check_version(comment, expected_version)
    with transaction.atomic():
        updated = _alive(comment, expected_version).update(
            body="",
            body_html=DELETED_HTML,
            deleted_at=timezone.now(),
            version=F("version") + 1,
        )
        if not updated:
            raise _lost_race(comment)
        _count(comment, -1)
        comment.revisions.all().delete()
        comment.refresh_from_db()
        _record(
            comment,
            actor,
            "comment.deleted",
            before={"version": expected_version},
            after={"version": comment.version},
        )
    return comment


def thread_resolve(*, comment, actor):
    """Mark the thread that ``comment`` starts as resolved (its author, reviewers, owners)."""
    return _set_resolved(comment, actor, resolved=True)


def thread_reopen(*, comment, actor):
    """Open a resolved thread again (its author, reviewers, owners)."""
    return _set_resolved(comment, actor, resolved=False)


def _set_resolved(comment, actor, *, resolved):
    authorize(actor=actor, action="comment.resolve", obj=comment)
    if comment.parent_id is not None:
        raise ValidationFailed(
            "Only a thread's first comment resolves or reopens the thread.",
            code="not_thread_root",
            fields={"comment": [f"Comment {comment.pk} is a reply in thread {comment.root_id}."]},
        )
    with transaction.atomic():
        updated = Comment.objects.filter(pk=comment.pk, resolved_at__isnull=resolved).update(
            resolved_at=timezone.now() if resolved else None,
            resolved_by=actor if resolved else None,
            version=F("version") + 1,
        )
        if not updated:
            if not Comment.objects.filter(pk=comment.pk).exists():
                raise NotFound("Comment not found.")
            raise InvalidTransition(f"This thread is already {'resolved' if resolved else 'open'}.")
        comment.refresh_from_db()
        _record(
            comment,
            actor,
            "thread.resolved" if resolved else "thread.reopened",
            before={"resolved": not resolved},
            after={"resolved": resolved},
        )
    return comment


def _check_body(body):
    if not body.strip():
        raise ValidationFailed("A comment needs some text.", fields={"body": ["Blank."]})
    if len(body) > BODY_MAX_LENGTH:
        raise ValidationFailed(
            f"A comment is at most {BODY_MAX_LENGTH} characters.",
            fields={"body": [f"{len(body)} characters; at most {BODY_MAX_LENGTH}."]},
        )


def _check_version(comment, expected_version):
    # ``comment`` was read at its version; a caller who saw another one is already stale.
    if comment.version != expected_version:
        raise stale("comment", comment.version)


def _alive(comment, expected_version):
    return Comment.objects.filter(pk=comment.pk, version=expected_version, deleted_at__isnull=True)


def _lost_race(comment):
    current = Comment.objects.filter(pk=comment.pk).values("version", "deleted_at").first()
    if current is None:
        return NotFound("Comment not found.")
    if current["deleted_at"] is not None:
        return InvalidTransition("This comment was deleted.", code="comment_deleted")
    return stale("comment", current["version"])


def mentioned_members(project, body):
    """``{username: user id}`` of the project members that ``body`` mentions."""
    return dict(
        Membership.objects.filter(
            project=project, user__username__in=mentioned_usernames(body)
        ).values_list("user__username", "user_id")
    )


def _participants(root_id):
    """Authors of the thread's comments that still stand."""
    return set(
        Comment.objects.filter(Q(pk=root_id) | Q(root_id=root_id), deleted_at__isnull=True)
        .exclude(author=None)
        .values_list("author_id", flat=True)
    )


def _notify(comment, actor, kind, recipients, what):
    if recipients:
        notify(
            project=comment.project,
            recipients=recipients,
            kind=kind,
            actor=actor,
            target_type="comment",
            target_id=comment.pk,
            text=f"{actor.username} {what} on {_about(comment)}",
        )


def _count(comment, change):
    """Keep the grid's count of standing comments on the unit (if the target is one)."""
    if comment.target_type == Comment.TargetType.UNIT:
        unit_counts_add(
            project_id=comment.project_id, unit_ids=[comment.target_id], comments=change
        )


def _record(comment, actor, verb, *, before=None, after=None):
    event_log(comment, verb, actor=actor, before=before, after=after)
    project_changed(project_id=comment.project_id)


def _about(comment):
    return f"{comment.target_type} {comment.target_label}"
