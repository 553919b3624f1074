from django.urls import path

from workers.api import views

app_name = "workers-api"

urlpatterns = [
    path("networks/", views.NetworkListView.as_view(), name="network-list"),
    path("networks/<slug:name>/", views.NetworkDetailView.as_view(), name="network-detail"),
    path("networks/<slug:name>/layers/", views.LayerListView.as_view(), name="layer-list"),
    path(
        "networks/<slug:name>/layers/<str:layer>/",
        views.LayerDetailView.as_view(),
        name="layer-detail",
    ),
    path(
        "networks/<slug:name>/layers/<str:layer>/sprite/",
        views.LayerSpriteView.as_view(),
        name="layer-sprite",
    ),
    path("networks/<slug:name>/units/", views.UnitListView.as_view(), name="unit-list"),
    path(
        "networks/<slug:name>/units/<str:address>/card/",
        views.UnitCardView.as_view(),
        name="unit-card",
    ),
    path(
        "networks/<slug:name>/units/<str:address>/",
        views.UnitDetailView.as_view(),
        name="unit-detail",
    ),
    path("datasets/", views.DatasetListView.as_view(), name="dataset-list"),
    path("jobs/", views.JobListCreateView.as_view(), name="job-list"),
    path("jobs/<int:job_id>/", views.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<int:job_id>/cancel/", views.JobCancelView.as_view(), name="job-cancel"),
    path(
        "jobs/<int:job_id>/artifacts/",
        views.JobArtifactListView.as_view(),
        name="job-artifacts",
    ),
    path(
        "artifacts/<int:artifact_id>/download/",
        views.ArtifactDownloadView.as_view(),
        name="artifact-download",
    ),
]
