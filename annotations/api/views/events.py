"""The project's activity feed and the history of one of its objects, from the event log."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework.pagination import CursorPagination

from annotations.api.serializers_taxonomy import EventOutputSerializer
from annotations.api.views.base import ProjectGenericView, ProjectView
from annotations.models import Event
from annotations.selectors.events import HISTORY_TARGET_TYPES, events_of, feed_of, history_of
from server.filters import IntegerFilter, StrictBooleanFilter, StrictDateTimeFilter
from server.pagination import AtlasPagination, StrictPageSize
from server.schema import ERROR


class EventFilter(django_filters.FilterSet):
    verb = django_filters.CharFilter(help_text='e.g. "group.renamed".')
    actor = django_filters.CharFilter(field_name="actor__username", help_text="A username.")
    target_type = django_filters.CharFilter()
    target_id = IntegerFilter()
    since = StrictDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="At or after this moment."
    )
    until = StrictDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Before this moment."
    )
    grouped = StrictBooleanFilter(
        method="filter_grouped",
        help_text="true (the default): an accepted hypothesis is one entry, its "
        "`hypothesis.accepted` event, with the events of the units it put in a group folded "
        "into it; false: every event, one per unit.",
    )

    class Meta:
        model = Event
        fields = ["verb", "actor", "target_type", "target_id", "since", "until", "grouped"]

    def filter_grouped(self, events, name, value):
        # Applied in filter_queryset, where leaving the parameter out also groups.
        return events

    def filter_queryset(self, queryset):
        events = super().filter_queryset(queryset)
        if self.form.cleaned_data.get("grouped") is False:
            return events
        return feed_of(events)


class FeedPagination(StrictPageSize, CursorPagination):
    """Pages of the feed by position, not number: the log only grows, and counting a busy
    project's events on every request costs more than reading the page."""

    ordering = ("-created_at", "-id")
    page_size = 50


class FeedEventOutputSerializer(EventOutputSerializer):
    """The feed's events: their own schema name, as the feed's page (a cursor, no count) is
    not the history's (numbered, with a count)."""


class EventListView(ProjectGenericView):
    serializer_class = FeedEventOutputSerializer
    filterset_class = EventFilter
    pagination_class = FeedPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Event.objects.none()
        return events_of(project=self.project)

    @extend_schema(
        operation_id="projects_events_list",
        responses={200: FeedEventOutputSerializer(many=True), 400: ERROR, 401: ERROR, 404: ERROR},
        description="The project's activity feed: every change, newest first. Paginated by "
        "cursor: follow `next` for older events (no total count; the log only grows).",
    )
    def get(self, request, slug):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(EventOutputSerializer(page, many=True).data)


class HistoryView(ProjectView):
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_history",
        responses={200: EventOutputSerializer(many=True), 401: ERROR, 404: ERROR},
        description="Every change to one object of the project, newest first; `target_type` "
        f"is one of {', '.join(HISTORY_TARGET_TYPES)}. A deleted object keeps its history.",
    )
    def get(self, request, slug, target_type, target_id):
        events = history_of(project=self.project, target_type=target_type, target_id=target_id)
        return self.page_response(events, EventOutputSerializer)
