"""DATABASE_STATEMENT_TIMEOUT_MS under a real gunicorn on PostgreSQL: a request whose query
waits past it is a 503 with Retry-After, logged as one warning and no error; the same
deployment's management commands are not bound."""

from __future__ import annotations

import os
import time

import psycopg
import pytest

from tests.e2e.helpers import started_index_server

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="SQLite has no statement timeout: the bound is PostgreSQL's statement_timeout",
)


def test_a_query_past_the_bound_is_a_503_and_commands_are_unbound(tmp_path):
    with started_index_server(tmp_path, extra_env={"DATABASE_STATEMENT_TIMEOUT_MS": "300"}) as server:
        server.shell("from packages_app.services import projects; projects.create_project('demo')")
        assert server.get("/simple/demo/").status == 200
        with psycopg.connect(server.env["DATABASE_URL"]) as other:
            # As a long migration or a stuck writer would: every read of projects now waits.
            other.execute("LOCK TABLE packages_app_project IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            response = server.get("/simple/demo/")
            waited = time.monotonic() - started
            other.rollback()
        assert response.status == 503, response.text
        assert waited < 5
        assert response.headers["Retry-After"] == "1"
        assert "ran past the 300 ms this index allows one, and was stopped" in response.text
        assert server.get("/simple/demo/").status == 200
        shown = server.shell(
            "from django.db import connection\n"
            "with connection.cursor() as cursor:\n"
            "    cursor.execute('SHOW statement_timeout')\n"
            "    print(cursor.fetchone()[0])"
        )
        assert shown.strip() == "0"
    log = server.log_path.read_text()
    (warning,) = [line for line in log.splitlines() if "packages_app.statement_timeout" in line]
    assert " WARNING " in warning
    assert warning.endswith("answered 503: GET /simple/demo/")
    assert "Traceback" not in log
    assert " ERROR " not in log
