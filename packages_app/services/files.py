"""File writes: record an uploaded file, delete a file."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from packages_app.models import File, FilenameRegistry, Release
from packages_app.services import journal
from packages_app.services.errors import Conflict
from packages_app.storage import metadata_path, package_storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredFile:
    """A distribution already written to storage, waiting for its row."""

    filename: str
    packagetype: str
    python_version: str
    size: int
    sha256_digest: str
    md5_digest: str
    blake2_256_digest: str
    path: str
    metadata_sha256: str | None = None
    metadata_blake2_256: str | None = None


def stored_paths(files: QuerySet[File] | Iterable[File]) -> list[str]:
    """Storage paths of these files and of their PEP 658 metadata files."""
    return stored_paths_and_size(files)[0]


def stored_paths_and_size(files: QuerySet[File] | Iterable[File]) -> tuple[list[str], int]:
    """Storage paths of these files and of their PEP 658 metadata files, and their total size (one query)."""
    if isinstance(files, QuerySet):
        rows = list(files.values_list("path", "metadata_sha256", "size"))
    else:
        rows = [(file.path, file.metadata_sha256, file.size) for file in files]
    paths: list[str] = []
    for path, metadata_sha256, _size in rows:
        paths.append(path)
        if metadata_sha256:
            paths.append(metadata_path(path))
    return paths, sum(size for _path, _metadata, size in rows)


def schedule_storage_delete(paths: list[str]) -> None:
    """Remove stored files once the deleting transaction has committed.

    Deleting before commit could lose a file whose row survives a rollback; a
    file left behind by a failed delete is only an orphan, which
    ``verify_storage`` reports.
    """

    def delete() -> None:
        storage = package_storage()
        for path in paths:
            try:
                storage.delete(path)
            except Exception:  # noqa: BLE001 - an orphan is recoverable, a crash here is not
                log.exception("could not delete stored file %s", path)

    if paths:
        transaction.on_commit(delete)


def add_file(
    release: Release,
    stored: StoredFile,
    *,
    requires_python: str = "",
    user=None,
    user_agent: str = "",
    comment: str = "",
    upload_time: datetime | None = None,
    publisher: str = "",
) -> File:
    """Record a stored distribution on a release and register its filename.

    ``publisher``: the trusted publisher that uploaded it (its description), if one did.
    """
    extra = {"upload_time": upload_time} if upload_time is not None else {}
    try:
        with journal.write_transaction():
            FilenameRegistry.objects.create(filename=stored.filename)
            file = File.objects.create(
                release=release,
                filename=stored.filename,
                packagetype=stored.packagetype,
                python_version=stored.python_version,
                requires_python=requires_python,
                size=stored.size,
                sha256_digest=stored.sha256_digest,
                md5_digest=stored.md5_digest,
                blake2_256_digest=stored.blake2_256_digest,
                path=stored.path,
                metadata_sha256=stored.metadata_sha256,
                metadata_blake2_256=stored.metadata_blake2_256,
                uploaded_by=user if user is not None and user.is_authenticated else None,
                uploaded_by_publisher=publisher[:255],
                user_agent=user_agent[:512],
                comment_text=comment,
                **extra,
            )
            _journal_file_change(
                f"add {stored.python_version} file {stored.filename}",
                journal.FILE_ADDED,
                release,
                stored.filename,
                user,
                size_change=stored.size,
            )
    except IntegrityError as exc:
        # Only a clash with a real file (or a registered name) is a Conflict: any other
        # constraint failing is a fault, and "already exists" would tell the client not to retry.
        if _clashes(stored):
            raise Conflict(f"File already exists ('{stored.filename}').") from exc
        raise
    return file


@journal.write_transaction()
def record_restored_bytes(file: File, *, user=None) -> bool:
    """Journal that a file's missing or corrupt stored bytes were stored again.

    The bytes are written before, outside the transaction (they may be large);
    False when the row was deleted meanwhile, so the caller can remove them again.
    """
    current = File.objects.select_related("release__project").filter(pk=file.pk).first()
    if current is None:
        return False
    _journal_file_change(
        f"restore file {current.filename}", journal.FILE_RESTORED, current.release, current.filename, user
    )
    return True


def _journal_file_change(
    action: str, kind: str, release: Release, filename: str, user, *, size_change: int = 0
) -> None:
    """One journal entry for a file: every file change is filed under its release's project and version
    (whose ``total_size`` moves by ``size_change`` in the same write)."""
    journal.record(
        action,
        kind=kind,
        project=release.project,
        version=release.version,
        filename=filename,
        user=user,
        size_change=size_change,
    )


def _clashes(stored: StoredFile) -> bool:
    return (
        File.objects.filter(
            Q(filename=stored.filename) | Q(sha256_digest=stored.sha256_digest) | Q(path=stored.path)
        ).exists()
        or FilenameRegistry.objects.filter(filename=stored.filename).exists()
    )


@journal.write_transaction()
def delete_file(file: File, *, user=None) -> None:
    """Delete a file. Its filename stays registered, so it can never be reused."""
    file = File.objects.select_related("release__project").get(pk=file.pk)
    paths = stored_paths([file])
    release = file.release
    file.delete()
    _journal_file_change(
        f"remove file {file.filename}", journal.FILE_DELETED, release, file.filename, user, size_change=-file.size
    )
    schedule_storage_delete(paths)
