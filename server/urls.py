from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from server.health import HealthView

urlpatterns = [
    path("", include("frontend.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/health/", HealthView.as_view(), name="health"),
    path("api/v1/", include("workers.api.urls")),
    path("api/v1/", include("annotations.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="frontend/swagger_ui.html"
        ),
        name="swagger-ui",
    ),
]

handler400 = "server.errors.bad_request"
handler404 = "server.errors.page_not_found"
handler500 = "server.errors.server_error"
