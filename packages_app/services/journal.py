"""Journal entries: the global, monotonic serial behind every change.

Each entry says what happened twice: in PyPI's words (``action``, e.g. ``add py3
file demo-1.0-py3-none-any.whl``, what the XML-RPC changelog sends) and as one
word of the fixed vocabulary below (``kind``, the events feed's ``action``,
listed in docs/api.md). Every writer passes one of these constants.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction
from django.db.models import F

from packages_app import naming
from packages_app.models import ApiToken, JournalEntry, Project

PROJECT_CREATED = "project-created"
PROJECT_STATUS_SET = "project-status-set"
PROJECT_VISIBILITY_SET = "project-visibility-set"
PROJECT_DELETED = "project-deleted"
RELEASE_CREATED = "release-created"
RELEASE_YANKED = "release-yanked"
RELEASE_UNYANKED = "release-unyanked"
RELEASE_DELETED = "release-deleted"
FILE_ADDED = "file-added"
FILE_DELETED = "file-deleted"
FILE_RESTORED = "file-restored"
ROLE_GRANTED = "role-granted"
ROLE_REVOKED = "role-revoked"
TOKEN_CREATED = "token-created"  # noqa: S105 - an event name, not a secret
TOKEN_REVOKED = "token-revoked"  # noqa: S105 - an event name, not a secret
NAMESPACE_GRANTED = "namespace-granted"
NAMESPACE_REVOKED = "namespace-revoked"
TRUSTED_PUBLISHER_ADDED = "trusted-publisher-added"
TRUSTED_PUBLISHER_REMOVED = "trusted-publisher-removed"
RETENTION_CHANGED = "retention-changed"
QUOTA_SET = "quota-set"
WEBHOOK_ADDED = "webhook-added"
WEBHOOK_REMOVED = "webhook-removed"
ACTIONS = frozenset(
    {
        PROJECT_CREATED, PROJECT_STATUS_SET, PROJECT_VISIBILITY_SET, PROJECT_DELETED, RELEASE_CREATED, RELEASE_YANKED,
        RELEASE_UNYANKED, RELEASE_DELETED, FILE_ADDED, FILE_DELETED, FILE_RESTORED, ROLE_GRANTED,
        ROLE_REVOKED, TOKEN_CREATED, TOKEN_REVOKED, NAMESPACE_GRANTED, NAMESPACE_REVOKED, TRUSTED_PUBLISHER_ADDED,
        TRUSTED_PUBLISHER_REMOVED, RETENTION_CHANGED, QUOTA_SET, WEBHOOK_ADDED, WEBHOOK_REMOVED,
    }
)  # fmt: skip

# The API token of the request being served, set by the upload and API views: the services
# take a user, and this says which of the user's tokens acted, without every service taking it.
_acting_token: ContextVar[ApiToken | None] = ContextVar("acting_token", default=None)


@contextmanager
def acting_token(token: ApiToken | None) -> Iterator[None]:
    """Entries journaled inside record ``token`` as the credential the change was made with."""
    reset = _acting_token.set(token)
    try:
        yield
    finally:
        _acting_token.reset(reset)


def set_acting_token(token: ApiToken | None) -> None:
    """For a view that learns its caller mid-request; the caller must have entered ``acting_token``."""
    _acting_token.set(token)


# The trusted publisher (described) whose minted token is uploading: an upload's entries say
# which CI workload made them, as a user's say who did.
_acting_publisher: ContextVar[str] = ContextVar("acting_publisher", default="")


@contextmanager
def acting_publisher(description: str) -> Iterator[None]:
    """Entries journaled inside record the trusted publisher ``description`` as their maker."""
    reset = _acting_publisher.set(description)
    try:
        yield
    finally:
        _acting_publisher.reset(reset)


# Any constant works; it only has to be the same for every writer.
_JOURNAL_LOCK_KEY = 0x707969_6E6478


# Set on the connection while a write_transaction that took the lock is open: the ones it
# encloses, and the journal entries written in it, then take no lock of their own.
_HOLDS_LOCK = "_journal_holds_serial_lock"


def _holds_serial_lock() -> bool:
    return getattr(connection, _HOLDS_LOCK, False)


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

    The lock is taken once, by the outermost write_transaction: the ones it encloses
    (an upload's project, release and file services) know it is held and take none.
    The flag is cleared when the block that took the lock ends, before its commit or
    rollback, so a savepoint rolled back (which gives up a lock taken inside it) never
    leaves a stale flag behind: the lock was taken before any savepoint the block opens.
    """
    if _holds_serial_lock():
        with transaction.atomic():
            yield
        return
    with transaction.atomic():
        _take_serial_lock()
        setattr(connection, _HOLDS_LOCK, True)
        try:
            yield
        finally:
            setattr(connection, _HOLDS_LOCK, False)


def record(
    action: str,
    *,
    kind: str,
    project: Project | None = None,
    name: str = "",
    version: str = "",
    filename: str = "",
    user=None,
    size_change: int = 0,
) -> JournalEntry:
    """Write one journal entry and move ``project.last_serial`` to it.

    ``size_change``: the bytes a file change adds to the project's files (negative: removes),
    moved onto ``project.total_size`` in the same statement as the serial.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("journal.record must run inside the service's write_transaction")
    if kind not in ACTIONS:
        raise ValueError(f"{kind!r} is not in the journal's vocabulary")
    if not _holds_serial_lock():
        _take_serial_lock()
    name = project.name if project is not None else name
    token = _acting_token.get()
    entry = JournalEntry.objects.create(
        name=name,
        normalized_name=naming.normalize_name(name) if name else "",
        version=version,
        filename=filename,
        action=action,
        kind=kind,
        submitted_by=user if user is not None and user.is_authenticated else None,
        token_key_id=token.key_id if token is not None else "",
        token_name=token.name if token is not None else "",
        publisher=_acting_publisher.get()[:255],
    )
    if project is not None and project.pk is not None:
        columns: dict = {"last_serial": entry.id}
        if size_change:
            columns["total_size"] = F("total_size") + size_change
            project.total_size += size_change
        Project.objects.filter(pk=project.pk).update(**columns)
        project.last_serial = entry.id
    elif size_change:
        raise ValueError("a size change belongs to a project")
    return entry
