"""A worker's claim on one webhook while it sends its events: held by the process, gone with it.

Two workers sending one hook's events side by side would break their order, so a worker takes
the hook's lock first and skips a hook another holds. The lock belongs to the worker's
process, never to a row, so a killed worker leaves nothing to wait out: on PostgreSQL a
session advisory lock (released when its connection closes, which a dying process's does),
shared by every node; on SQLite, which one machine serves, a file lock beside the database
(released by the kernel when the process dies). A lock in the process's memory comes first,
for its own threads.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

# A hook's advisory lock key: "whk" in the high 32 bits, the hook's id in the low ones (a bigint,
# whatever the id's size; the journal's lock key has other high bits, so they never meet).
_ADVISORY_CLASS = 0x77686B


def advisory_key(hook_id: int) -> int:
    return (_ADVISORY_CLASS << 32) | (hook_id & 0xFFFFFFFF)


_memory_locks: dict[int, threading.Lock] = {}
_memory_guard = threading.Lock()


@contextmanager
def claimed(hook_id: int) -> Iterator[bool]:
    """Yields True when this process now holds the hook (released on leaving), False when another does.

    The process's own lock comes first: PostgreSQL's session locks are re-entrant, so without
    it two threads on one connection (or a test holding a claim) could both take the hook.
    """
    with _memory_lock(hook_id) as held:
        if not held:
            yield False
            return
        with _shared_lock(hook_id) as shared:
            yield shared


@contextmanager
def _shared_lock(hook_id: int) -> Iterator[bool]:
    """The lock other processes see: on the database server, or beside the SQLite file."""
    if connection.vendor == "postgresql":
        with _advisory(hook_id) as held:
            yield held
        return
    database = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and Path(database).is_file():
        with _file_lock(Path(f"{database}.webhook-{hook_id}.lock")) as held:
            yield held
        return
    yield True  # an in-memory database lives in this process alone: its own lock was enough


@contextmanager
def _advisory(hook_id: int) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s::bigint)", [advisory_key(hook_id)])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s::bigint)", [advisory_key(hook_id)])


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)  # closing releases the lock


@contextmanager
def _memory_lock(hook_id: int) -> Iterator[bool]:
    with _memory_guard:
        lock = _memory_locks.setdefault(hook_id, threading.Lock())
    held = lock.acquire(blocking=False)
    try:
        yield held
    finally:
        if held:
            lock.release()
