"""The layer grid: every unit of a layer with its group and what people are saying about it.

One page costs a fixed number of queries whatever its size: the units with their counts come
from one query with correlated subqueries, their groups from a second one.
"""

import json

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from annotations.models import Assignment, Comment, Group, Hypothesis, HypothesisUnit
from server.errors import NotFound, ValidationFailed
from workers.models import Artifact, Layer, Unit

STATUSES = ("unlabelled", "labelled", "under_review")


def _count(queryset, field):
    """A correlated COUNT of ``queryset``, already filtered on the outer unit by ``field``."""
    counted = queryset.order_by().values(field).annotate(total=Count("pk")).values("total")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def grid_layer_get(*, project, network_name, layer_name):
    layer = (
        Layer.objects.select_related("network")
        .filter(
            network__name=network_name,
            network__project_links__project=project,
            name=layer_name,
        )
        .first()
    )
    if layer is None:
        raise NotFound(f"No layer {network_name}/{layer_name} in this project.")
    return layer


def grid_units(*, project, layer, group=None, status=None, text=""):
    """The layer's units in index order, annotated with ``group_id``, ``open_hypotheses`` and
    ``comments``; ``group`` is a group id or "none"; ``status`` one of STATUSES."""
    assignment = Assignment.objects.filter(project=project, unit=OuterRef("pk"))
    open_units = HypothesisUnit.objects.filter(
        hypothesis__project=project,
        hypothesis__status=Hypothesis.Status.OPEN,
        unit=OuterRef("pk"),
    )
    comments = Comment.objects.filter(
        project=project,
        target_type=Comment.TargetType.UNIT,
        target_id=OuterRef("pk"),
        deleted_at__isnull=True,
    )
    units = (
        Unit.objects.filter(layer=layer)
        .annotate(
            group_id=Subquery(assignment.values("group_id")[:1]),
            open_hypotheses=_count(open_units, "unit"),
            comments=_count(comments, "target_id"),
        )
        .order_by("index")
    )
    if group == "none":
        units = units.filter(group_id__isnull=True)
    elif group is not None:
        units = units.filter(group_id=group)
    if status == "unlabelled":
        units = units.filter(group_id__isnull=True)
    elif status == "labelled":
        units = units.filter(group_id__isnull=False)
    elif status == "under_review":
        units = units.filter(open_hypotheses__gt=0)
    elif status is not None:
        raise ValidationFailed(
            f"Unknown status {status!r}.", fields={"status": [f"One of: {', '.join(STATUSES)}."]}
        )
    if text:
        units = units.filter(_text_matches(project, text))
    return units


def _text_matches(project, text):
    """Units whose group, open hypotheses or comments mention ``text``."""
    in_group = Assignment.objects.filter(
        project=project, unit=OuterRef("pk"), group__name__icontains=text
    )
    in_hypothesis = HypothesisUnit.objects.filter(
        hypothesis__project=project, unit=OuterRef("pk")
    ).filter(Q(hypothesis__title__icontains=text) | Q(hypothesis__text__icontains=text))
    in_comment = Comment.objects.filter(
        project=project,
        target_type=Comment.TargetType.UNIT,
        target_id=OuterRef("pk"),
        deleted_at__isnull=True,
        body__icontains=text,
    )
    return Exists(in_group) | Exists(in_hypothesis) | Exists(in_comment)


def groups_by_id(*, ids):
    return {group.pk: group for group in Group.objects.filter(pk__in=set(ids) - {None})}


def grid_sprites(*, layer):
    """For each job kind, the newest sprite sheet of the layer and its layout (the sprite
    index: tile size, columns and each unit's tile position; None when the job wrote none):
    ``{kind: (artifact, layout)}``. One query, and one small file read per kind."""
    artifacts = (
        Artifact.objects.filter(
            layer=layer,
            unit=None,
            kind__in=[Artifact.Kind.LAYER_SPRITE, Artifact.Kind.LAYER_INDEX],
        )
        .select_related("job")
        .order_by("job__kind", "-job__created_at", "-job_id")
    )
    newest = {}
    indexes = {}
    for artifact in artifacts:
        if artifact.kind == Artifact.Kind.LAYER_INDEX:
            indexes[(artifact.job_id, artifact.variant)] = artifact
        else:
            newest.setdefault(artifact.job.kind, artifact)
    return {
        kind: (sprite, _layout(indexes.get((sprite.job_id, sprite.variant))))
        for kind, sprite in newest.items()
    }


def _layout(index_artifact):
    if index_artifact is None:
        return None
    with index_artifact.file.open("rb") as handle:
        return json.load(handle)
