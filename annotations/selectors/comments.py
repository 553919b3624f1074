"""Reads about comments: what a comment may be about, threads on one target, edit history."""

from dataclasses import dataclass

from django.db.models import Prefetch

from annotations.models import Circuit, Comment, Group, Hypothesis
from server.errors import NotFound, UnknownReference, ValidationFailed
from workers.addresses import MalformedAddress, UnitAddress
from workers.models import Unit


@dataclass(frozen=True)
class CommentTarget:
    type: str
    id: int
    label: str


def comment_target_resolve(*, project, target_type, target_id):
    """The object of ``project`` a comment is about, and the label it reads by.

    ``target_id`` is a primary key, or for a unit also its address ``network/layer:index``
    (``inceptionv1/mixed3b:379``). Anything not in the project is a ValidationFailed.
    """
    if target_type not in Comment.TargetType.values:
        raise ValidationFailed(
            f"A comment is about a {', '.join(Comment.TargetType.values)}.",
            fields={"target_type": [f"{target_type!r} is not a valid choice."]},
        )
    target_id = str(target_id).strip()
    target = _RESOLVERS[target_type](project, target_id)
    if not target:
        raise UnknownReference(
            f"No {target_type} {target_id!r} in this project.",
            fields={"target_id": [f"No {target_type} {target_id!r} in this project."]},
        )
    return target


def _unit(project, target_id):
    units = Unit.objects.select_related("network", "layer").filter(
        network__project_links__project=project
    )
    network, _, text = target_id.partition("/")
    try:
        address = UnitAddress.parse(text)
    except MalformedAddress:
        address = None
    if _pk(target_id) is not None:
        units = units.filter(pk=_pk(target_id))
    elif network and address is not None and _pk(str(address.index)) is not None:
        units = units.filter(network__name=network, layer__name=address.layer, index=address.index)
    else:
        return None
    unit = units.first()
    label = unit and f"{unit.network.name}/{unit.address}"
    return unit and CommentTarget(Comment.TargetType.UNIT, unit.pk, label)


def _group(project, target_id):
    group = Group.objects.filter(project=project, pk=_pk(target_id)).first()
    return group and CommentTarget(Comment.TargetType.GROUP, group.pk, group.name)


def _hypothesis(project, target_id):
    hypothesis = Hypothesis.objects.filter(project=project, pk=_pk(target_id)).first()
    return hypothesis and CommentTarget(
        Comment.TargetType.HYPOTHESIS, hypothesis.pk, hypothesis.title
    )


def _circuit(project, target_id):
    circuit = Circuit.objects.filter(project=project, pk=_pk(target_id)).first()
    return circuit and CommentTarget(Comment.TargetType.CIRCUIT, circuit.pk, circuit.name)


def _pk(text):
    # At most 18 digits: anything longer is no row's key and would overflow a BIGINT.
    return int(text) if text.isdecimal() and len(text) <= 18 else None


_RESOLVERS = {
    Comment.TargetType.UNIT: _unit,
    Comment.TargetType.GROUP: _group,
    Comment.TargetType.HYPOTHESIS: _hypothesis,
    Comment.TargetType.CIRCUIT: _circuit,
}


def comment_threads(*, project, target):
    """The threads on ``target``, oldest first: each root comment with its ``replies``
    (every later comment of the thread, oldest first) prefetched in one query."""
    replies = Comment.objects.select_related("author").order_by("created_at", "id")
    return (
        Comment.objects.filter(
            project=project,
            target_type=target.type,
            target_id=target.id,
            parent__isnull=True,
        )
        .select_related("author", "resolved_by")
        .prefetch_related(Prefetch("thread_replies", queryset=replies, to_attr="replies"))
        .order_by("created_at", "id")
    )


def comment_get(*, project, comment_id):
    """The comment ``comment_id`` of ``project``; NotFound otherwise."""
    comment = (
        Comment.objects.filter(project=project, pk=comment_id)
        .select_related("project", "author", "resolved_by")
        .first()
    )
    if comment is None:
        raise NotFound("Comment not found.")
    return comment


def comment_for_reply(*, project, comment_id):
    """The comment of ``project`` that a new comment answers; ValidationFailed on
    ``parent`` if there is none."""
    comment = Comment.objects.filter(project=project, pk=comment_id).first()
    if comment is None:
        raise UnknownReference(
            f"No comment {comment_id} in this project.",
            fields={"parent": [f"No comment {comment_id} in this project."]},
        )
    return comment


def comment_revisions(*, comment):
    """The bodies ``comment`` had before each edit, oldest first."""
    return comment.revisions.select_related("editor").order_by("edited_at", "id")
