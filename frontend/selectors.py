"""Reads only the pages need: a project's layers with how many of their units are labelled."""

from django.db.models import Count

from annotations.models import Assignment
from workers.models import Layer


def labelled_share_by_layer(*, project):
    """The layers of the project's networks, in network and layer order, each annotated with
    ``labelled`` (units with an accepted group in this project). Two queries."""
    layers = list(
        Layer.objects.filter(network__project_links__project=project)
        .select_related("network")
        .order_by("network__name", "order")
    )
    counts = dict(
        Assignment.objects.filter(project=project, unit__layer__in=[layer.pk for layer in layers])
        .values_list("unit__layer_id")
        .annotate(total=Count("pk"))
        .order_by()
    )
    for layer in layers:
        layer.labelled = counts.get(layer.pk, 0)
    return layers
