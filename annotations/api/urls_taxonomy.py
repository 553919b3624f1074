"""URL routes of the taxonomy endpoints, included by annotations/api/urls.py."""

urlpatterns = []
