"""Text search over a project's groups, hypotheses and comments.

PostgreSQL ranks with its full-text search (English stemming, so "curves" finds "curve");
SQLite, the embedded default, falls back to a case-insensitive substring match.
"""

from django.db import connection
from django.db.models import Q

from annotations.models import Comment, Group, Hypothesis

LIMIT = 20

# Searchable text of each kind, and how a hit is shown.
FIELDS = {
    "groups": (Group, ("name", "description")),
    "hypotheses": (Hypothesis, ("title", "text")),
    "comments": (Comment, ("body",)),
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
    """``{"groups": [...], "hypotheses": [...], "comments": [...]}``, best hits first."""
    search = _postgres_search if connection.vendor == "postgresql" else _substring_search
    results = {}
    for kind, (model, fields) in FIELDS.items():
        queryset = model.objects.filter(project=project)
        if model is Comment:
            queryset = queryset.filter(deleted_at__isnull=True)
        results[kind] = list(search(queryset, fields, text)[:limit])
    return results
