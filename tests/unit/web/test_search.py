"""packages_app/web/search.py: the SQL it makes on PostgreSQL (compiled here, never run: the
suite's PostgreSQL runs test it for real) and its order on SQLite."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connections
from django.db.backends.postgresql.base import DatabaseWrapper

from packages_app.models import Project
from packages_app.web import search
from tests.factories import ProjectFactory, ReleaseFactory


def postgresql_sql(queryset) -> str:
    settings = {**connections["default"].settings_dict, "ENGINE": "django.db.backends.postgresql", "OPTIONS": {}}
    compiler = queryset.query.get_compiler(connection=DatabaseWrapper(settings, alias="compile-only"))
    sql, _ = compiler.as_sql()
    return sql


def test_postgresql_matches_summaries_with_full_text_search():
    with mock.patch.object(search, "uses_full_text", return_value=True):
        sql = postgresql_sql(search.search_projects(Project.objects.all(), "barometer -wind"))
    assert 'to_tsvector(%s::regconfig, COALESCE(U0."summary", %s)) @@ (websearch_to_tsquery(%s::regconfig, %s))' in sql
    assert '"normalized_name"::text LIKE %s' in sql


@pytest.mark.django_db
def test_best_matches_first():
    for name in ("zz-demo-tools", "demo-tools", "demo", "other"):
        ProjectFactory(name=name)
    ReleaseFactory(project=Project.objects.get(name="other"), summary="Works with the demo")
    found = [p.normalized_name for p in search.search_projects(Project.objects.all(), "Demo")]
    assert found == ["demo", "demo-tools", "zz-demo-tools", "other"]


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["", "   "])
def test_no_text_finds_nothing(text):
    ProjectFactory(name="demo")
    assert list(search.search_projects(Project.objects.all(), text)) == []


@pytest.mark.django_db
def test_the_summary_shown_is_the_latest_releases():
    project = ProjectFactory(name="demo")
    ReleaseFactory(project=project, version="1.0", summary="old words")
    ReleaseFactory(project=project, version="2.0", summary="new words")
    [found] = search.with_summaries(search.search_projects(Project.objects.all(), "old"))
    assert found.summary == "new words"
