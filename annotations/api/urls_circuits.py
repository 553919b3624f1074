"""URL routes of the circuit and universality-link endpoints, included by
annotations/api/urls.py."""

from django.urls import path

from annotations.api.views.circuits import (
    CircuitDetailView,
    CircuitEdgeDetailView,
    CircuitEdgesView,
    CircuitGrowView,
    CircuitHistoryView,
    CircuitListView,
    CircuitNodeDetailView,
    CircuitNodesView,
)
from annotations.api.views.links import (
    LinkDetailView,
    LinkListView,
    LinkReviewView,
    UnitLinksView,
)

CIRCUIT = "projects/<slug:slug>/circuits/<int:circuit_id>/"
LINK = "projects/<slug:slug>/links/<int:link_id>/"

urlpatterns = [
    path("projects/<slug:slug>/circuits/", CircuitListView.as_view(), name="circuit-list"),
    path(CIRCUIT, CircuitDetailView.as_view(), name="circuit-detail"),
    path(f"{CIRCUIT}nodes/", CircuitNodesView.as_view(), name="circuit-nodes"),
    path(f"{CIRCUIT}nodes/<int:node_id>/", CircuitNodeDetailView.as_view(), name="circuit-node"),
    path(f"{CIRCUIT}edges/", CircuitEdgesView.as_view(), name="circuit-edges"),
    path(f"{CIRCUIT}edges/<int:edge_id>/", CircuitEdgeDetailView.as_view(), name="circuit-edge"),
    path(f"{CIRCUIT}grow/", CircuitGrowView.as_view(), name="circuit-grow"),
    path(f"{CIRCUIT}history/", CircuitHistoryView.as_view(), name="circuit-history"),
    path("projects/<slug:slug>/links/", LinkListView.as_view(), name="link-list"),
    path(LINK, LinkDetailView.as_view(), name="link-detail"),
    path(f"{LINK}review/", LinkReviewView.as_view(), name="link-review"),
    path(
        "projects/<slug:slug>/units/<slug:network>/<str:address>/links/",
        UnitLinksView.as_view(),
        name="unit-links",
    ),
]
