from django.urls import include, path

from annotations.api.views.auth import MeView, TokenDetailView, TokenListView, TokenView
from annotations.api.views.grid import LayerGridView
from annotations.api.views.members import MemberDetailView, MemberListView
from annotations.api.views.network_links import ProjectNetworkAddView
from annotations.api.views.networks import ProjectNetworksView
from annotations.api.views.projects import ProjectDetailView, ProjectListView
from annotations.api.views.search import SearchView

app_name = "annotations-api"

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("auth/tokens/", TokenListView.as_view(), name="auth-token-list"),
    path("auth/tokens/<int:token_id>/", TokenDetailView.as_view(), name="auth-token-detail"),
    path("auth/me/", MeView.as_view(), name="auth-me"),
    path("projects/", ProjectListView.as_view(), name="project-list"),
    path("projects/<slug:slug>/", ProjectDetailView.as_view(), name="project-detail"),
    path("projects/<slug:slug>/members/", MemberListView.as_view(), name="member-list"),
    path(
        "projects/<slug:slug>/members/<str:username>/",
        MemberDetailView.as_view(),
        name="member-detail",
    ),
    # GET lists the project's networks; registration (POST) joins this view.
    path("projects/<slug:slug>/networks/", ProjectNetworksView.as_view(), name="project-networks"),
    path(
        "projects/<slug:slug>/networks/existing/",
        ProjectNetworkAddView.as_view(),
        name="project-network-add",
    ),
    path(
        "projects/<slug:slug>/grid/<slug:network>/<str:layer>/",
        LayerGridView.as_view(),
        name="layer-grid",
    ),
    path("projects/<slug:slug>/search/", SearchView.as_view(), name="search"),
    path("", include("annotations.api.urls_taxonomy")),
    path("", include("annotations.api.urls_hypotheses")),
    path("", include("annotations.api.urls_comments")),
    path("", include("annotations.api.urls_exports")),
    path("", include("annotations.api.urls_circuits")),
    path("", include("annotations.api.urls_circuit_diagram")),
    path("", include("annotations.api.urls_rounds")),
    path("", include("annotations.api.urls_webhooks")),
]
