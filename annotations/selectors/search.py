"""Text search over a project's groups, hypotheses, comments, unit notes and circuits.

PostgreSQL ranks with its full-text search (English stemming, so "curves" finds "curve");
SQLite, the embedded default, falls back to a case-insensitive substring match.
"""

from django.db import connection
from django.db.models import Q

from annotations.models import Assignment, Circuit, Comment, Group, Hypothesis

LIMIT = 20

# Searchable text of each kind: units by the note of their group assignment.
FIELDS = {
    "groups": (Group, ("name", "description")),
    "hypotheses": (Hypothesis, ("title", "text")),
    "comments": (Comment, ("body",)),
    "units": (Assignment, ("note",)),
    "circuits": (Circuit, ("name", "description")),
}
# What each kind's hits are shown with, fetched in the same query.
RELATED = {
    "units": ("unit__layer__network", "group"),
    "circuits": ("network",),
}


def _postgres_search(queryset, fields, text):
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = SearchVector(*fields, config="english")
    query = SearchQuery(text, config="english", search_type="websearch")
    return (
        queryset.annotate(rank=SearchRank(vector, query))
        .filter(rank__gt=0)
        .order_by("-rank", "-pk")
    )


def _substring_search(queryset, fields, text):
    matches = Q()
    for field in fields:
        matches |= Q(**{f"{field}__icontains": text})
    return queryset.filter(matches).order_by("-pk")


def project_search(*, project, text, limit=LIMIT):
    """``{"groups": [...], "hypotheses": [...], "comments": [...], "units": [assignments],
    "circuits": [...]}``, best hits first; one query per kind."""
    search = _postgres_search if connection.vendor == "postgresql" else _substring_search
    results = {}
    for kind, (model, fields) in FIELDS.items():
        queryset = model.objects.filter(project=project).select_related(*RELATED.get(kind, ()))
        if model is Comment:
            queryset = queryset.filter(deleted_at__isnull=True)
        results[kind] = list(search(queryset, fields, text)[:limit])
    return results
