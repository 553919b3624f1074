"""URL routes of the labelling round endpoints, included by annotations/api/urls.py."""

from django.urls import path

from annotations.api.views.rounds import (
    RoundAgreedApplyView,
    RoundCloseView,
    RoundDecisionsView,
    RoundDetailView,
    RoundDisagreementsView,
    RoundLabelsView,
    RoundListView,
    RoundResultsView,
    RoundSubmitView,
)

ROUND = "projects/<slug:slug>/rounds/<int:round_id>/"

urlpatterns = [
    path("projects/<slug:slug>/rounds/", RoundListView.as_view(), name="round-list"),
    path(ROUND, RoundDetailView.as_view(), name="round-detail"),
    path(f"{ROUND}labels/", RoundLabelsView.as_view(), name="round-labels"),
    path(f"{ROUND}submit/", RoundSubmitView.as_view(), name="round-submit"),
    path(f"{ROUND}close/", RoundCloseView.as_view(), name="round-close"),
    path(f"{ROUND}results/", RoundResultsView.as_view(), name="round-results"),
    path(f"{ROUND}disagreements/", RoundDisagreementsView.as_view(), name="round-disagreements"),
    path(f"{ROUND}decisions/", RoundDecisionsView.as_view(), name="round-decisions"),
    path(f"{ROUND}apply-agreed/", RoundAgreedApplyView.as_view(), name="round-apply-agreed"),
]
