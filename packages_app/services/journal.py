"""Journal entries: the global, monotonic serial behind every change."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from django.db import connection, transaction

from packages_app.models import JournalEntry, Project

# Any constant works; it only has to be the same for every writer.
_JOURNAL_LOCK_KEY = 0x707969_6E6478


def _take_serial_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_JOURNAL_LOCK_KEY])


@contextmanager
def write_transaction():
    """The transaction every service runs in: index writes take turns.

    Sequence values are handed out at insert time, not commit time, so two
    concurrent transactions could commit serial N+1 before N and a mirror
    polling the journal would skip N for ever. Taking one transaction-level
    advisory lock *first*, before any row is touched, orders commits by serial
    and leaves no lock to wait for in another order, so writers cannot
    deadlock. Write transactions are short (file bytes are stored before, not
    inside, them), so taking turns costs little. SQLite already runs one
    writer at a time (transactions begin IMMEDIATE). Re-entrant: a service
    called inside another's transaction just joins it.
    """
    with transaction.atomic():
        _take_serial_lock()
        yield


def record(
    action: str,
    *,
    project: Project | None = None,
    name: str = "",
    version: str = "",
    filename: str = "",
    user=None,
) -> JournalEntry:
    """Write one journal entry and move ``project.last_serial`` to it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("journal.record must run inside the service's write_transaction")
    _take_serial_lock()
    entry = JournalEntry.objects.create(
        name=project.name if project is not None else name,
        version=version,
        filename=filename,
        action=action,
        submitted_by=user if user is not None and user.is_authenticated else None,
    )
    if project is not None and project.pk is not None:
        Project.objects.filter(pk=project.pk).update(last_serial=entry.id)
        project.last_serial = entry.id
    return entry


def last_serial() -> int:
    entry = JournalEntry.objects.order_by("-id").values_list("id", flat=True).first()
    return entry or 0


def last_entry() -> tuple[int, datetime | None]:
    """The newest serial and when it was written; ``(0, None)`` for an empty journal."""
    row = JournalEntry.objects.order_by("-id").values_list("id", "submitted_date").first()
    return row or (0, None)


def submitted_at(serial: int) -> datetime | None:
    return JournalEntry.objects.filter(id=serial).values_list("submitted_date", flat=True).first()
