"""Searching projects by name and summary, for the search page.

On PostgreSQL the summaries are matched with full-text search (``websearch_to_tsquery``: words,
"quoted phrases", ``-excluded``), on SQLite with a substring match; names always by substring
of their normalised form, so ``acme-d`` finds ``acme-data``. A project matches on the summary
of any of its releases. Exact names come first, then names that start with the text, then the
rest, by name. The caller passes the projects its viewer may see (``visible_to``), so a
restricted project never shows to a non-member.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from packages_app import naming
from packages_app.models import Release

MAX_QUERY_LENGTH = 200


def uses_full_text() -> bool:
    return connection.vendor == "postgresql"


def summary_matches(text: str) -> QuerySet:
    """The releases whose summary matches ``text``."""
    if uses_full_text():
        from django.contrib.postgres.search import SearchQuery, SearchVector

        query = SearchQuery(text, search_type="websearch", config="english")
        return Release.objects.annotate(document=SearchVector("summary", config="english")).filter(document=query)
    return Release.objects.filter(summary__icontains=text)


def with_summary(projects: QuerySet) -> QuerySet:
    """Projects with ``summary``: their latest release's (what the public index shows)."""
    latest = Release.objects.filter(project=OuterRef("pk")).in_latest_order().values("summary")
    return projects.annotate(summary=Subquery(latest[:1]))


def search_projects(projects: QuerySet, text: str) -> QuerySet:
    """Those of ``projects`` whose name or a summary matches ``text``, best matches first."""
    text = text.strip()[:MAX_QUERY_LENGTH]
    if not text:
        return projects.none()
    name = naming.normalize_name(text)
    by_summary = Q(pk__in=summary_matches(text).values("project"))
    found = projects.filter(Q(normalized_name__contains=name) | by_summary) if name else projects.filter(by_summary)
    rank = Case(
        When(normalized_name=name, then=Value(0)),
        When(normalized_name__startswith=name, then=Value(1)),
        When(normalized_name__contains=name, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return with_summary(found).annotate(rank=rank).order_by("rank", "normalized_name")
