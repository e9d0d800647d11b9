"""PostgreSQL: the web UI's search reads the indexes of migrations 0015 (summaries) and 0017 (names)."""

from __future__ import annotations

import pytest
from django.db import connection

from packages_app.models import Project
from packages_app.web import search
from tests.factories import ProjectFactory, ReleaseFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the index is PostgreSQL's")


def test_the_summary_search_uses_its_index(db):
    for number in range(50):
        ReleaseFactory(project=ProjectFactory(name=f"p{number}"), summary=f"Reads barometers, model {number}")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a small table: make the planner show what it can use
        plan = search.summary_matches("barometer").values("project").explain()
    assert "release_summary_search_idx" in plan, plan


def test_the_name_search_uses_the_trigram_index(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            pytest.skip("this server refused pg_trgm: names are read one by one")
    for number in range(50):
        ProjectFactory(name=f"acme-tool-{number}")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = search.search_projects(Project.objects.all(), "tool-4").explain()
    assert "project_name_trigram_idx" in plan, plan
    assert [p.name for p in search.search_projects(Project.objects.all(), "tool-4")] == ["acme-tool-4"] + [
        f"acme-tool-{n}" for n in range(40, 50)
    ]
