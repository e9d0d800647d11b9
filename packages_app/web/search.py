"""Searching projects by name and summary, for the search page.

On PostgreSQL the summaries are matched with full-text search (``websearch_to_tsquery``: words,
"quoted phrases", ``-excluded``), on SQLite with a substring match; names always by substring
of their normalised form, so ``acme-d`` finds ``acme-data``. A project matches on the summary
of any of its releases. Exact names come first, then names that start with the text, then the
rest, by name. The caller passes the projects its viewer may see (``visible_to``), so a
restricted project never shows to a non-member.

What keeps it fast on 100,000 projects: the candidates are the union of two index reads (names
by trigram on PostgreSQL where ``pg_trgm`` could be installed, migration 0017; summaries by the
full-text index of migration 0015), not a scan of every project testing both; the count stops at
``MAX_COUNTED`` (nobody pages past it: they add a word); and the summaries shown are read for the
page's twenty rows only, not for every match before sorting.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.utils.functional import cached_property

from packages_app import naming
from packages_app.models import Project, Release

MAX_QUERY_LENGTH = 200
MAX_COUNTED = 1000


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


def with_summaries(projects: Iterable[Project]) -> list[Project]:
    """``projects`` (a page of them, in order) with ``summary`` set, in one query for all of them."""
    rows = list(projects)
    summaries = dict(with_summary(Project.objects.filter(pk__in=[p.pk for p in rows])).values_list("pk", "summary"))
    for project in rows:
        project.summary = summaries.get(project.pk)  # type: ignore[attr-defined]  # as with_summary annotates
    return rows


def search_projects(projects: QuerySet, text: str) -> QuerySet:
    """Those of ``projects`` whose name or a summary matches ``text``, best matches first."""
    text = text.strip()[:MAX_QUERY_LENGTH]
    if not text:
        return projects.none()
    name = naming.normalize_name(text)
    # ``order_by()``: members of a UNION take no ordering (releases have a default one).
    candidates = summary_matches(text).values("project").order_by()
    if name:
        by_name = Project.objects.filter(normalized_name__contains=name).values("pk").order_by()
        candidates = by_name.union(candidates, all=True)
    rank = Case(
        When(normalized_name=name, then=Value(0)),
        When(normalized_name__startswith=name, then=Value(1)),
        When(normalized_name__contains=name, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return projects.filter(pk__in=candidates).annotate(rank=rank).order_by("rank", "normalized_name")


class SearchPaginator(Paginator):
    """Pages of search results whose count stops at ``MAX_COUNTED`` (``capped`` says it did)."""

    def __init__(self, found: QuerySet, per_page: int) -> None:
        super().__init__(found, per_page)
        self.found = found

    @cached_property
    def matched(self) -> int:
        return self.found.order_by()[: MAX_COUNTED + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self.matched, MAX_COUNTED)

    @property
    def capped(self) -> bool:
        return self.matched > MAX_COUNTED
