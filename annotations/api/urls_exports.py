"""URL routes of the export, import and release endpoints, included by annotations/api/urls.py."""

from django.urls import path

from annotations.api.views.exports import (
    ExportView,
    ImportView,
    ReleaseDetailView,
    ReleaseDiffView,
    ReleaseExportView,
    ReleaseListView,
)

PROJECT = "projects/<slug:slug>/"
RELEASE = f"{PROJECT}releases/<str:name>/"

urlpatterns = [
    path(f"{PROJECT}exports/<str:file_format>/", ExportView.as_view(), name="export"),
    path(f"{PROJECT}imports/", ImportView.as_view(), name="import"),
    path(f"{PROJECT}releases/", ReleaseListView.as_view(), name="release-list"),
    path(RELEASE, ReleaseDetailView.as_view(), name="release-detail"),
    path(
        f"{RELEASE}exports/<str:file_format>/", ReleaseExportView.as_view(), name="release-export"
    ),
    path(f"{RELEASE}diff/", ReleaseDiffView.as_view(), name="release-diff"),
]
