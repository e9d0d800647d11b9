"""Page builders' small pieces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from packages_app.simple.builders import upload_time_text


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), "2026-01-02T03:04:05.123456Z"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05Z"),  # no fraction when there is none
        (datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))), "2026-01-02T03:04:05Z"),
    ],
)
def test_upload_time_text_is_utc_with_z(moment, text):
    assert upload_time_text(moment) == text
