"""Upload times as text, read straight from the database for big pages.

A page of ten thousand files spent more time turning database values into
``datetime`` objects (and back into text) than on anything else. Both
databases can hand the stored UTC time over as text instead: SQLite keeps it
as ``YYYY-MM-DD HH:MM:SS[.ffffff]``, PostgreSQL casts it (its session runs in
UTC under Django) to ``YYYY-MM-DD HH:MM:SS[.f...]+00``. ``split_utc_text``
reads either.
"""

from __future__ import annotations

from django.db.models import CharField, F
from django.db.models.functions import Cast


def as_utc_text(field: str) -> Cast:
    """An expression giving the UTC timestamp ``field`` as text (see the module docstring)."""
    return Cast(F(field), output_field=CharField())


def split_utc_text(text: str) -> tuple[str, int]:
    """``("YYYY-MM-DDTHH:MM:SS", microseconds)`` from the text of a stored UTC time."""
    seconds = f"{text[:10]}T{text[11:19]}"
    if len(text) == 26 and text[20:].isdigit():  # SQLite's full form, the most common
        return seconds, int(text[20:])
    if len(text) > 20 and text[19] == ".":
        end = 20
        while end < len(text) and text[end].isdigit():
            end += 1
        return seconds, int(text[20:end].ljust(6, "0")[:6])
    return seconds, 0
