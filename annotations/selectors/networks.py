"""Reads about the networks a project studies."""

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from workers.models import Layer, Network, Unit


def project_networks(*, project):
    """The networks ``project`` studies, annotated with ``layer_count`` and ``unit_count``."""
    return (
        Network.objects.filter(project_links__project=project)
        .annotate(
            layer_count=_count_per_network(Layer),
            unit_count=_count_per_network(Unit),
        )
        .order_by("name")
    )


def _count_per_network(model):
    # A correlated subquery per count: joining layers and units together would multiply rows.
    counts = (
        model.objects.filter(network=OuterRef("pk"))
        .order_by()
        .values("network")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)
