"""A web request's query that runs past DATABASE_STATEMENT_TIMEOUT_MS: stopped by PostgreSQL,
answered 503 with Retry-After and a body that says why, logged once as a warning; and only
web processes are bound (management commands and migrations are not).

The slow query is real and deterministic: another session holds an exclusive lock on the
table the endpoint reads, as a long migration or a stuck writer would, so the endpoint's
query waits, and statement_timeout counts the wait. A timer releases the lock after a few
seconds, so without the bound the request would be answered late (and the test fail), not hang.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from packages_app import statement_timeout
from packages_app.services import projects, releases

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
REPO_ROOT = Path(__file__).resolve().parents[2]
BOUND_MS = 300
RELEASE_AFTER_SECONDS = 5

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not ON_POSTGRES, reason="SQLite has no statement timeout: the bound is PostgreSQL's statement_timeout"
    ),
]


@pytest.fixture
def web_process(settings):
    """This process as a web worker bound to 300 ms: connections it opens from now on get the timeout."""
    settings.DATABASE_STATEMENT_TIMEOUT_MS = BOUND_MS
    statement_timeout.bound_web_requests()
    connection.close()
    yield
    statement_timeout.unbound()
    connection.close()


@pytest.fixture
def demo(db):
    project = projects.create_project("demo")
    releases.create_release(project, "1.0", {"summary": "A demo"})
    return project


def _connect():
    import psycopg

    options = connection.settings_dict
    return psycopg.connect(
        dbname=options["NAME"],
        user=options["USER"] or None,
        password=options["PASSWORD"] or None,
        host=options["HOST"] or None,
        port=options["PORT"] or None,
    )


@contextlib.contextmanager
def table_locked(table: str) -> Iterator[None]:
    """Another session holds an exclusive lock on ``table`` (released after a few seconds at most)."""
    other = _connect()
    other.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    released = threading.Lock()

    def release() -> None:
        with released:
            if not other.closed:
                other.rollback()
                other.close()

    timer = threading.Timer(RELEASE_AFTER_SECONDS, release)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        release()


def _search(client):
    body = xmlrpc.client.dumps(({"name": "demo"},), "search")
    return client.post("/pypi", body, content_type="text/xml")


ENDPOINTS = {
    "xml-rpc search": ("packages_app_release", _search, "text/plain; charset=utf-8"),
    "api project search": (
        "packages_app_project",
        lambda client: client.get("/api/v1/projects/?q=demo"),
        "application/problem+json",
    ),
    "simple page": ("packages_app_project", lambda client: client.get("/simple/demo/"), "text/plain; charset=utf-8"),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_query_past_the_bound_is_a_503_with_retry_after(client, demo, web_process, caplog, endpoint):
    table, request, content_type = ENDPOINTS[endpoint]
    with caplog.at_level(logging.WARNING), table_locked(table):
        started = time.monotonic()
        response = request(client)
        waited = time.monotonic() - started
    assert response.status_code == 503, response.content[:300]
    assert waited < RELEASE_AFTER_SECONDS  # stopped at the bound, not when the lock went
    assert response["Retry-After"] == "1"
    assert response["Content-Type"] == content_type
    assert f"ran past the {BOUND_MS} ms this index allows one, and was stopped" in response.content.decode()
    logged = [(record.levelname, record.name, record.getMessage()) for record in caplog.records]
    assert [entry for entry in logged if entry[0] in ("ERROR", "CRITICAL")] == []
    (warning,) = [entry for entry in logged if entry[1] == "packages_app.statement_timeout"]
    assert warning[0] == "WARNING"
    assert warning[2].endswith(f"answered 503: {response.request['REQUEST_METHOD']} {response.request['PATH_INFO']}")
    assert "SELECT" not in warning[2]
    assert "?" not in warning[2]  # no query string: it may carry what a user typed
    # The lock gone, the same connection answers the same request.
    assert request(client).status_code == 200


def test_a_query_within_the_bound_is_answered(client, demo, web_process):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == (f"{BOUND_MS}ms",)
    (found,), _ = xmlrpc.client.loads(_search(client).content)
    assert [(each["name"], each["version"]) for each in found] == [("demo", "1.0")]


def _statement_timeout_in(command: list[str], tmp_path: Path) -> str:
    options = connection.settings_dict
    user, password = quote(options["USER"] or "", safe=""), quote(options["PASSWORD"] or "", safe="")
    url = f"postgres://{user}:{password}@{options['HOST']}:{options['PORT']}/{options['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "indexsite.settings",
        "DEBUG": "true",
        "INDEX_DATA_DIR": str(tmp_path),
        "DATABASE_URL": url,
        "DATABASE_STATEMENT_TIMEOUT_MS": "1234",
    }
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    return result.stdout.strip().splitlines()[-1]


SHOW = (
    "from django.db import connection\n"
    "with connection.cursor() as cursor:\n"
    "    cursor.execute('SHOW statement_timeout')\n"
    "    print(cursor.fetchone()[0])\n"
)


def test_web_processes_are_bound_and_management_commands_are_not(db, tmp_path):
    """gunicorn and runserver load indexsite.wsgi; manage.py commands (migrate too) never do."""
    web = [sys.executable, "-c", "import indexsite.wsgi\n" + SHOW]
    assert _statement_timeout_in(web, tmp_path) == "1234ms"
    command = [sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", SHOW]
    assert _statement_timeout_in(command, tmp_path) == "0"
