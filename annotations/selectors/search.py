"""Text search over a project's groups, hypotheses, comments, unit notes and circuits.

PostgreSQL ranks with its full-text search (English stemming, so "curves" finds "curve") over
the stored, GIN-indexed ``search_vector`` of each searched table (migration 0016), and ranks
only the newest ``CANDIDATES`` matches of each kind, so that a word in nearly every comment
answers as fast as a rare one. SQLite, the embedded default, falls back to a case-insensitive
substring match, newest first: on both, the hits come from the newest ``CANDIDATES`` matches.
"""

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import Expression, Q

from annotations.models import Assignment, Circuit, Comment, Group, Hypothesis

LIMIT = 20
# How many of the newest matches of a kind are ranked (PostgreSQL): the bound that keeps a
# search for a word in 99,000 comments near the cost of a rare word (bench/API.md).
CANDIDATES = 500

# Searchable text of each kind: units by the note of their group assignment. The PostgreSQL
# documents are built from the same fields by migration 0016.
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


class StoredSearchVector(Expression):
    """The ``search_vector`` column of the query's own table (migration 0016; PostgreSQL only,
    unknown to the models), qualified so that joined tables with one of their own never clash."""

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        alias = compiler.query.get_initial_alias()
        return f"{compiler.quote_name_unless_alias(alias)}.search_vector", []


def _postgres_search(queryset, fields, text, limit):
    query = SearchQuery(text, config="english", search_type="websearch")
    newest_matches = (
        queryset.alias(document=StoredSearchVector())
        .filter(document=query)
        .order_by("-pk")
        .values("pk")[:CANDIDATES]
    )
    return (
        queryset.filter(pk__in=newest_matches)
        .annotate(rank=SearchRank(StoredSearchVector(), query))
        .order_by("-rank", "-pk")[:limit]
    )


def _substring_search(queryset, fields, text, limit):
    matches = Q()
    for field in fields:
        matches |= Q(**{f"{field}__icontains": text})
    return queryset.filter(matches).order_by("-pk")[: min(limit, CANDIDATES)]


def project_search(*, project, text, limit=LIMIT):
    """``{"groups": [...], "hypotheses": [...], "comments": [...], "units": [assignments],
    "circuits": [...]}``, best hits first; one query per kind. On PostgreSQL the hits are the
    best ranked of the newest ``CANDIDATES`` matches of each kind."""
    search = _postgres_search if connection.vendor == "postgresql" else _substring_search
    results = {}
    for kind, (model, fields) in FIELDS.items():
        queryset = model.objects.filter(project=project).select_related(*RELATED.get(kind, ()))
        if model is Comment:
            queryset = queryset.filter(deleted_at__isnull=True)
        results[kind] = list(search(queryset, fields, text, limit))
    return results
