"""Upload times read from the database as text, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from packages_app.models import File
from packages_app.timestamps import as_utc_text, split_utc_text
from tests.factories import FileFactory


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("2026-01-02 03:04:05.123456", ("2026-01-02T03:04:05", 123456)),  # SQLite
        ("2026-01-02 03:04:05", ("2026-01-02T03:04:05", 0)),
        ("2026-01-02 03:04:05.12+00", ("2026-01-02T03:04:05", 120000)),  # PostgreSQL trims trailing zeros
        ("2026-01-02 03:04:05.123+00", ("2026-01-02T03:04:05", 123000)),  # as long as SQLite's full form
        ("2026-01-02 03:04:05+00", ("2026-01-02T03:04:05", 0)),
        ("2026-01-02 03:04:05.000001+00", ("2026-01-02T03:04:05", 1)),
    ],
)
def test_split_utc_text(text, parts):
    assert split_utc_text(text) == parts


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 100, tzinfo=UTC),
    ],
)
def test_the_database_text_round_trips(db, moment):
    FileFactory(upload_time=moment)
    text = File.objects.annotate(t=as_utc_text("upload_time")).values_list("t", flat=True).get()
    seconds, microseconds = split_utc_text(text)
    assert (seconds, microseconds) == (moment.strftime("%Y-%m-%dT%H:%M:%S"), moment.microsecond)
