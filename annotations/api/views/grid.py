"""The layer grid: a page of units with their group, counts and sprite-sheet positions.

Rendered pages are cached (Django's cache, for ``ATLAS_GRID_CACHE_SECONDS``) as the bytes
sent, keyed by everything the page is made of: the project and its change count, the layer,
the layer's sprite artifacts, the reader's role, the media type and the whole request URL
(host, path and every query parameter: page, page size, filters, text; ``next`` and
``previous`` are built from it). Why a cached page is never stale:

- Every change the grid shows (assignments, groups, comments, hypotheses, imports, counts)
  writes events, and each transaction that does raises the project's change count once,
  after it commits (``annotations/services/grid_changes.py``). The units of a layer never
  change after the network is registered. Sprite artifacts are written by workers, which
  know nothing of projects: instead of a counter, their rows are read on every request (one
  small query) and are part of the key, and the page's sprites are built from those rows.
- A request reads the change count first (with the project lookup), then the page. The count
  is raised only after its change commits, so a request that read the new count also reads
  the change; one that read the old count may store a page made before or after the change
  under the old count, which no later request asks for.
- A request inside a transaction neither reads nor stores pages: it may see its own writes,
  whose count has not been raised yet.
- The one hole is a process that dies between COMMIT and raising the count: its change is
  then shown after at most ``ATLAS_GRID_CACHE_SECONDS``.
"""

import functools
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from annotations.selectors.grid import (
    STATUSES,
    GridUnits,
    grid_fired_on,
    grid_layer_get_for_user,
    grid_sprite_artifacts,
    grid_sprites,
)
from server.pagination import AtlasPagination
from server.schema import ERROR
from server.validators import FullMatchValidator
from workers.addresses import UnitAddress

MAX_OFFSET = 2**31 - 1


class GridPagination(AtlasPagination):
    # A whole layer (up to 1,280 units in MobileNetV2) fits in one page.
    page_size = 256
    max_page_size = 2048

    def paginate_queryset(self, queryset, request, view=None):
        # The page and the count come from one statement when the page asked for is a number
        # (one that a database can take as an offset: past that, the count alone answers 404).
        number = request.query_params.get(self.page_query_param, "1")
        page_size = self.get_page_size(request)
        if number.isdecimal() and 0 < int(number) <= MAX_OFFSET // page_size:
            queryset.expect_page(offset=(int(number) - 1) * page_size, limit=page_size)
        return super().paginate_queryset(queryset, request, view)


class GridQuerySerializer(serializers.Serializer):
    group = serializers.CharField(
        required=False,
        trim_whitespace=False,
        validators=[FullMatchValidator(r"^([0-9]{1,18}|none)$", "A group id or 'none'.")],
        help_text="A group id (at most 18 digits: one a database can hold), or 'none'.",
    )
    status = serializers.ChoiceField(choices=STATUSES, required=False)
    q = serializers.CharField(required=False, max_length=200, help_text="Text to find.")

    def validate_group(self, value):
        return value if value == "none" else int(value)


class GridGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField()


class GridFiredOnSerializer(serializers.Serializer):
    dataset = serializers.CharField()
    images = serializers.IntegerField(
        min_value=0, help_text="On how many images the unit fired: its spatial max above 0."
    )
    of = serializers.IntegerField(min_value=0, help_text="How many images were searched.")
    never_fired = serializers.BooleanField(help_text="True when it fired on none.")


class GridUnitSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    address = serializers.CharField()
    group = GridGroupSerializer(allow_null=True)
    open_hypotheses = serializers.IntegerField()
    comments = serializers.IntegerField()
    card_url = serializers.CharField()
    fired_on = GridFiredOnSerializer(
        allow_null=True,
        help_text="Whether the unit fired on the dataset of the layer's newest dataset-examples "
        "job; null without one.",
    )


class GridSpriteSerializer(serializers.Serializer):
    kind = serializers.CharField()
    job = serializers.IntegerField()
    sprite_url = serializers.CharField()
    sprite_index_url = serializers.CharField(help_text="Tile positions of every unit.")
    layout = serializers.JSONField(
        allow_null=True,
        help_text="The same index inline (tile size, columns, and the x and y of each unit "
        "on this page), so a page needs no third request; null when the job wrote no index.",
    )


class GridPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    network = serializers.CharField()
    layer = serializers.CharField()
    sprites = GridSpriteSerializer(many=True)
    results = GridUnitSerializer(many=True)


class LayerGridView(APIView):
    @extend_schema(
        operation_id="projects_grid_layer",
        parameters=[GridQuerySerializer],
        responses={200: GridPageSerializer, 400: ERROR, 404: ERROR},
        description="Every unit of a layer with its group, open-hypothesis and comment "
        "counts and whether it ever fired on the dataset of its examples, and the layer's "
        "sprite sheets (one image per job kind, with the index of "
        "each unit's tile): a whole grid in one JSON request plus one image. A fixed number "
        "of queries whatever the page size.",
    )
    def get(self, request, slug, network, layer):
        grid_layer = grid_layer_get_for_user(
            user=request.user, slug=slug, network_name=network, layer_name=layer
        )
        sprite_artifacts = grid_sprite_artifacts(layer_id=grid_layer.layer_id)
        cache_key = _cache_key(request, grid_layer, sprite_artifacts)
        if cache_key is not None:
            cached = cache.get(cache_key)
            if cached is not None:
                content_type, content = cached
                return HttpResponse(content, content_type=content_type)
        query = GridQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        units = GridUnits(
            project=grid_layer.project,
            layer_id=grid_layer.layer_id,
            group=filters.get("group"),
            status=filters.get("status"),
            text=filters.get("q", ""),
        )
        paginator = GridPagination()
        page = paginator.paginate_queryset(units, request, self)
        units_url = reverse("workers-api:unit-list", kwargs={"name": network})
        page_sprites = grid_sprites(
            artifacts=sprite_artifacts, unit_indices=[row.index for row in page]
        )
        fired_on = grid_fired_on(sprites=page_sprites)
        # Plain dicts in the documented shape (GridUnitSerializer describes it): a page is
        # hundreds of units and this is the endpoint the grid page polls.
        addresses = [str(UnitAddress(layer, row.index)) for row in page]
        rows = [
            {
                "index": row.index,
                "address": address,
                "group": None
                if row.group_id is None
                else {"id": row.group_id, "name": row.group_name, "color": row.group_color},
                "open_hypotheses": row.open_hypotheses,
                "comments": row.comments,
                "card_url": f"{units_url}{address}/card/",
                "fired_on": fired_on.get(row.index),
            }
            for row, address in zip(page, addresses, strict=True)
        ]
        sprite_index_url = reverse(
            "workers-api:layer-sprite", kwargs={"name": network, "layer": layer}
        )
        sprites = [
            {
                "kind": sprite.kind,
                "job": sprite.job_id,
                "sprite_url": reverse(
                    "workers-api:artifact-download", kwargs={"artifact_id": sprite.artifact_id}
                ),
                "sprite_index_url": f"{sprite_index_url}?kind={sprite.kind}&job={sprite.job_id}",
                "layout": sprite.layout,
            }
            for sprite in page_sprites
        ]
        response = paginator.get_paginated_response(rows)
        response.data["network"] = network
        response.data["layer"] = layer
        response.data["sprites"] = sprites
        if cache_key is not None:
            response.add_post_render_callback(functools.partial(_cache_store, cache_key))
        return response


def _cache_key(request, grid_layer, sprite_artifacts):
    """The cache key of this request's page, or None where pages are not cached: the cache
    turned off, a request inside a transaction (see the module's docstring), or a rendering
    other than JSON (the browsable API)."""
    if (
        settings.ATLAS_GRID_CACHE_SECONDS <= 0
        or connection.in_atomic_block
        or request.accepted_renderer.format != "json"
    ):
        return None
    made_of = repr(
        (
            grid_layer.changes,
            grid_layer.layer_id,
            grid_layer.role,
            request.accepted_media_type,
            request.build_absolute_uri(),
            sprite_artifacts,
        )
    )
    digest = hashlib.sha256(made_of.encode()).hexdigest()
    return f"grid:{grid_layer.project.pk}:{digest}"


def _cache_store(cache_key, response):
    """Keep a rendered page (called once the response is rendered)."""
    if response.status_code == 200:
        cache.set(
            cache_key,
            (response["Content-Type"], response.content),
            settings.ATLAS_GRID_CACHE_SECONDS,
        )
