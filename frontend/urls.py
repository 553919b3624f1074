from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import views

app_name = "frontend"

PROJECT = "p/<slug:slug>/"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("login/", views.ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(PROJECT, views.project_page, name="project"),
    path(f"{PROJECT}grid/<slug:network>/<str:layer>/", views.grid_page, name="grid"),
    path(f"{PROJECT}units/<slug:network>/<str:address>/", views.unit_page, name="unit"),
    path(f"{PROJECT}taxonomy/", views.taxonomy_page, name="taxonomy"),
    path(f"{PROJECT}hypotheses/<int:hypothesis_id>/", views.hypothesis_page, name="hypothesis"),
    path(f"{PROJECT}comments/<int:comment_id>/", views.comment_page, name="comment"),
    path(f"{PROJECT}reviews/", views.reviews_page, name="reviews"),
    path(f"{PROJECT}rounds/", views.rounds_page, name="rounds"),
    path(f"{PROJECT}rounds/<int:round_id>/", views.round_page, name="round"),
    path(f"{PROJECT}jobs/", views.jobs_page, name="jobs"),
    path(f"{PROJECT}exports/", views.exports_page, name="exports"),
    path(f"{PROJECT}settings/", views.settings_page, name="settings"),
    path(f"{PROJECT}compare/<slug:network>/", views.compare_page, name="compare"),
    path(f"{PROJECT}circuits/<int:circuit_id>/", views.circuit_page, name="circuit"),
]
