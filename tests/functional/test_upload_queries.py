"""What one upload costs the database: a small constant number of queries, whatever the
project holds, and on PostgreSQL the journal's advisory lock taken once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from harness.dists import build_sdist, build_wheel
from packages_app.services import tokens
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, post_upload, twine_fields

# Measured: a new file on an existing release 20 (PostgreSQL 21) queries, one making its
# release 24 (25), the test's savepoints included (issue #26 found 33-38 before); the first
# upload, which creates the project and its Owner, takes a few more. It must not creep up.
MAX_QUERIES = 25
LOCK = "pg_advisory_xact_lock"


def upload(client, tmp_path, auth, version: str, *, sdist: bool = False) -> list[str]:
    """Upload demo ``version`` (a wheel, or an sdist); the SQL of the request."""
    directory = tmp_path / f"{version}-{'sdist' if sdist else 'wheel'}"
    directory.mkdir()
    path = (build_sdist if sdist else build_wheel)(directory, "demo", version)
    with CaptureQueriesContext(connection) as context:
        response = post_upload(client, twine_fields(path, "demo", version), auth)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in context.captured_queries]


@pytest.fixture
def auth(db):
    _, plaintext = tokens.create_token(UserFactory(username="alice"), name="ci")
    return basic_auth("__token__", plaintext)


def test_an_upload_takes_a_small_constant_number_of_queries(client, auth, tmp_path):
    upload(client, tmp_path, auth, "1.0")  # creates the project
    uploads = [
        upload(client, tmp_path, auth, "1.0", sdist=True),  # a file on an existing release
        upload(client, tmp_path, auth, "2.0"),  # a new release
        upload(client, tmp_path, auth, "3.0"),
    ]
    counts = [len(queries) for queries in uploads]
    assert max(counts) <= MAX_QUERIES, counts
    # A project with more files costs no more: the quota reads the project's running total.
    assert counts[2] == counts[1], counts
    assert not [sql for queries in uploads for sql in queries if "SUM(" in sql.upper()]


def test_the_journal_lock_is_taken_once_per_upload(client, auth, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite runs one writer at a time")
    for version, sdist in [("1.0", False), ("1.0", True), ("2.0", False)]:
        queries = upload(client, tmp_path, auth, version, sdist=sdist)
        assert sum(LOCK in sql for sql in queries) == 1, version
