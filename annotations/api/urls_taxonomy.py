"""URL routes of the taxonomy endpoints, included by annotations/api/urls.py."""

from django.urls import path

from annotations.api.views.assignments import AssignmentsView, UnitGroupView
from annotations.api.views.events import EventListView, HistoryView
from annotations.api.views.groups import (
    GroupDetailView,
    GroupListView,
    GroupMergeView,
    GroupMoveView,
    GroupTreeView,
    GroupUnitsView,
)
from annotations.api.views.undo import UndoView

GROUP = "projects/<slug:slug>/groups/<int:group_id>/"

urlpatterns = [
    path("projects/<slug:slug>/groups/", GroupListView.as_view(), name="group-list"),
    path("projects/<slug:slug>/groups/tree/", GroupTreeView.as_view(), name="group-tree"),
    path(GROUP, GroupDetailView.as_view(), name="group-detail"),
    path(f"{GROUP}move/", GroupMoveView.as_view(), name="group-move"),
    path(f"{GROUP}merge/", GroupMergeView.as_view(), name="group-merge"),
    path(f"{GROUP}units/", GroupUnitsView.as_view(), name="group-units"),
    path(
        "projects/<slug:slug>/units/<slug:network>/<str:address>/group/",
        UnitGroupView.as_view(),
        name="unit-group",
    ),
    path("projects/<slug:slug>/assignments/", AssignmentsView.as_view(), name="assignments"),
    path("projects/<slug:slug>/events/", EventListView.as_view(), name="event-list"),
    path("projects/<slug:slug>/undo/", UndoView.as_view(), name="undo"),
    path(
        "projects/<slug:slug>/history/<slug:target_type>/<int:target_id>/",
        HistoryView.as_view(),
        name="history",
    ),
]
