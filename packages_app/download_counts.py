"""Download counts: each worker adds its downloads up in memory and writes them in batches.

A download is a full ``GET`` of a distribution (a redirect to the object store included): not
a ``HEAD``, a range request (uv reads a wheel's metadata that way), a ``304`` or a
``.metadata`` file. Counting one is a dictionary increment under a lock; a thread of each worker
writes what was counted every ``DOWNLOAD_COUNT_FLUSH_SECONDS`` (and at exit) as one upsert per
file and day into ``DownloadCount``, so serving a file never waits on a database write. A
worker killed hard loses at most that many seconds of counts: these are statistics, not records.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from packages_app.models import DownloadCount

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_pending: Counter[tuple[int, int, int, date]] = Counter()
_flusher: threading.Thread | None = None


def count(file_id: int, release_id: int, project_id: int) -> None:
    """One download of the file, today (UTC)."""
    if not settings.DOWNLOAD_COUNTS:
        return
    today = _today()
    with _lock:
        _pending[(file_id, release_id, project_id, today)] += 1
    if _flusher is None:
        _ensure_flusher()


_day: tuple[int, date] = (-1, date.min)


def _today() -> date:
    """Today (UTC), made once per day rather than once per download."""
    global _day
    number = int(time.time()) // 86400
    if _day[0] != number:
        _day = (number, datetime.fromtimestamp(number * 86400, UTC).date())
    return _day[1]


def discard() -> None:
    """Forget what was counted and not written (the tests, between two)."""
    with _lock:
        _pending.clear()


def flush() -> int:
    """Write what this process counted; returns how many downloads were written."""
    with _lock:
        batch = dict(_pending)
        _pending.clear()
    if not batch:
        return 0
    table = DownloadCount._meta.db_table
    # One statement each, for PostgreSQL and SQLite alike: add to the day's row, or make it.
    sql = (
        f"INSERT INTO {table} (file_id, release_id, project_id, day, count) VALUES (%s, %s, %s, %s, %s) "  # noqa: S608 - the table name is ours
        f"ON CONFLICT (file_id, day) DO UPDATE SET count = {table}.count + excluded.count"
    )
    rows = [(*key, number) for key, number in batch.items()]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # A file deleted since its download: its counts go with it.
            live = _existing_files({row[0] for row in rows})
            cursor.executemany(sql, [row for row in rows if row[0] in live])
    except DatabaseError:
        logger.exception("writing %d download counts failed; they are counted again at the next flush", len(rows))
        with _lock:
            _pending.update(batch)
        return 0
    return sum(batch.values())


def _existing_files(ids: set[int]) -> set[int]:
    from packages_app.models import File

    return set(File.objects.filter(pk__in=ids).values_list("pk", flat=True))


def _ensure_flusher() -> None:
    global _flusher
    if settings.DOWNLOAD_COUNT_FLUSH_SECONDS <= 0:
        return  # flushed only when asked (the tests) and at exit
    if _flusher is not None and _flusher.is_alive():
        return
    with _lock:
        if _flusher is not None and _flusher.is_alive():
            return
        _flusher = threading.Thread(target=_flush_forever, name="download-counts", daemon=True)
        _flusher.start()


def _flush_forever() -> None:
    stop = threading.Event()
    while not stop.wait(settings.DOWNLOAD_COUNT_FLUSH_SECONDS):
        try:
            flush()
        except Exception:  # noqa: BLE001 - the thread must outlive any one failure
            logger.exception("writing download counts failed")
        finally:
            connection.close()  # this thread's own connection: not kept open between flushes


@atexit.register
def _flush_at_exit() -> None:
    try:
        flush()
    except Exception:  # noqa: BLE001 - the process is ending; nothing more can be done
        logger.exception("download counts were lost at exit")
