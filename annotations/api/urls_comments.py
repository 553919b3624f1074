"""URL routes of the comments and notifications endpoints, included by annotations/api/urls.py."""

from django.urls import path

from annotations.api.views.comments import (
    CommentDetailView,
    CommentListView,
    CommentRevisionListView,
    ThreadReopenView,
    ThreadResolveView,
)
from annotations.api.views.notifications import (
    NotificationListView,
    NotificationMarkReadView,
    NotificationUnreadCountView,
)

COMMENT = "projects/<slug:slug>/comments/<int:comment_id>/"

urlpatterns = [
    path("projects/<slug:slug>/comments/", CommentListView.as_view(), name="comment-list"),
    path(COMMENT, CommentDetailView.as_view(), name="comment-detail"),
    path(f"{COMMENT}revisions/", CommentRevisionListView.as_view(), name="comment-revisions"),
    path(f"{COMMENT}resolve/", ThreadResolveView.as_view(), name="comment-resolve"),
    path(f"{COMMENT}reopen/", ThreadReopenView.as_view(), name="comment-reopen"),
    path("notifications/", NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/unread-count/",
        NotificationUnreadCountView.as_view(),
        name="notification-unread-count",
    ),
    path(
        "notifications/mark-read/",
        NotificationMarkReadView.as_view(),
        name="notification-mark-read",
    ),
]
