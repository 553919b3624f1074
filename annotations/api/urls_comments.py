"""URL routes of the comments endpoints, included by annotations/api/urls.py."""

urlpatterns = []
