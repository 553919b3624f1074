"""URL routes of the hypotheses endpoints, included by annotations/api/urls.py."""

urlpatterns = []
