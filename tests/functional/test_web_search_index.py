"""PostgreSQL: the web UI's summary search reads the GIN index of migration 0015, not every release."""

from __future__ import annotations

import pytest
from django.db import connection

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
