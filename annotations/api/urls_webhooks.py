"""URL routes of the webhooks and e-mail preference endpoints, included by
annotations/api/urls.py."""

from django.urls import path

from annotations.api.views.webhooks import (
    DeliveryListView,
    EmailPreferenceView,
    RedeliverView,
    WebhookDetailView,
    WebhookListView,
)

WEBHOOK = "projects/<slug:slug>/webhooks/<int:webhook_id>/"

urlpatterns = [
    path("projects/<slug:slug>/webhooks/", WebhookListView.as_view(), name="webhook-list"),
    path(WEBHOOK, WebhookDetailView.as_view(), name="webhook-detail"),
    path(f"{WEBHOOK}deliveries/", DeliveryListView.as_view(), name="webhook-deliveries"),
    path(
        f"{WEBHOOK}deliveries/<int:delivery_id>/redeliver/",
        RedeliverView.as_view(),
        name="webhook-redeliver",
    ),
    path("auth/me/notifications/", EmailPreferenceView.as_view(), name="auth-me-notifications"),
]
