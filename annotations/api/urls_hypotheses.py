"""URL routes of the hypotheses, reviews and review queue endpoints, included by
annotations/api/urls.py."""

from django.urls import path

from annotations.api.views.hypotheses import (
    HypothesisDetailView,
    HypothesisListView,
    HypothesisReviewsView,
    HypothesisWithdrawView,
    ProjectReviewQueueView,
    ReviewQueueView,
)

HYPOTHESIS = "projects/<slug:slug>/hypotheses/<int:hypothesis_id>/"

urlpatterns = [
    path("projects/<slug:slug>/hypotheses/", HypothesisListView.as_view(), name="hypothesis-list"),
    path(HYPOTHESIS, HypothesisDetailView.as_view(), name="hypothesis-detail"),
    path(f"{HYPOTHESIS}withdraw/", HypothesisWithdrawView.as_view(), name="hypothesis-withdraw"),
    path(f"{HYPOTHESIS}reviews/", HypothesisReviewsView.as_view(), name="hypothesis-reviews"),
    path(
        "projects/<slug:slug>/review-queue/",
        ProjectReviewQueueView.as_view(),
        name="project-review-queue",
    ),
    path("review-queue/", ReviewQueueView.as_view(), name="review-queue"),
]
