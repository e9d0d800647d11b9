"""Does storage hold exactly what the database says? Check, and repair what is safe.

What is checked:

- every File row's stored file exists, has the recorded size and (unless
  ``quick``) the recorded sha256; its PEP 658 ``.metadata`` file too when the
  row has a ``metadata_sha256``;
- every stored file is referenced by a row (a ``.metadata`` file beside a
  referenced distribution counts as referenced); the others are orphans;
- with local storage, temporary files of a write that never finished
  (``.incoming-*``, left by a killed process) are orphans as well;
- every File row has its filename registered and its ``add ... file`` journal entry.

Files kept from the upstream index (under ``upstream/``) are its cache, not the index's
own files: never checked, never counted as orphans (the admin removes them).

Uploads store their bytes *before* their row commits, and deletes remove bytes
*after* the row's delete commits, so a stored file without a row is normal for
a moment. Files younger than the grace period are therefore listed apart and
never counted or removed. Everything found missing or orphaned is checked a
second time before it is reported, because uploads and deletes may run while
the check does.

Repair never deletes a row: a row whose bytes are missing or corrupt is a loss
only a person can judge. Bringing the identical file again repairs it: an upload
or ``import_dists`` of the same bytes (same sha256) stores them again
(``upload.pipeline``), or restore it from a backup, or delete the file through
the admin. ``quarantine`` yanks (PEP 592) each release with such a file, with a
reason naming the lost files, through the services, which journal it: PEP 792's
quarantine has no per-file or per-release form and would stop offering every
version of the project for one lost file, while a yank keeps the release
installable only for those who pin it, and its reason says what to do.
Orphans older than the grace period are removed under the index's write lock,
where an upload re-checks that its bytes are still there before it commits.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.core.files.storage import FileSystemStorage
from django.db.models import Subquery
from django.utils import timezone

from packages_app.models import File, FilenameRegistry, JournalEntry, Release
from packages_app.services import journal
from packages_app.services import releases as release_services
from packages_app.storage import METADATA_SUFFIX, metadata_path, package_storage, stored_paths

UPSTREAM_FILES = "upstream/"  # upstream.pages.FILES_PREFIX: no path of ours starts so

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(minutes=60)
_CHUNK = 1 << 20
_TEMP_PREFIX = ".incoming-"

# Kinds of problem. Rows first: those are losses; orphans only cost space.
MISSING = "missing"
SIZE_MISMATCH = "size-mismatch"
HASH_MISMATCH = "hash-mismatch"
METADATA_MISSING = "metadata-missing"
METADATA_MISMATCH = "metadata-mismatch"
UNREGISTERED = "unregistered-filename"
UNJOURNALED = "no-journal-entry"
ORPHAN = "orphan"
STALE_TEMP = "stale-temporary-file"

ROW_KINDS = (MISSING, SIZE_MISMATCH, HASH_MISMATCH, METADATA_MISSING, METADATA_MISMATCH)
DATABASE_KINDS = (UNREGISTERED, UNJOURNALED)
ORPHAN_KINDS = (ORPHAN, STALE_TEMP)


@dataclass(frozen=True)
class Problem:
    kind: str
    path: str
    detail: str
    filename: str = ""
    project: str = ""  # normalised name
    file_id: int | None = None


@dataclass(frozen=True)
class StoredOrphan:
    path: str
    size: int | None
    modified: datetime | None


@dataclass
class Report:
    quick: bool
    grace: timedelta
    rows_checked: int = 0
    bytes_hashed: int = 0
    stored_files: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    # Orphans younger than the grace period: probably an upload or a delete in flight.
    recent: list[StoredOrphan] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def of(self, *kinds: str) -> list[Problem]:
        return [problem for problem in self.problems if problem.kind in kinds]

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "quick": self.quick,
            "grace_minutes": self.grace.total_seconds() / 60,
            "rows_checked": self.rows_checked,
            "bytes_hashed": self.bytes_hashed,
            "stored_files": self.stored_files,
            "seconds": round(self.seconds, 3),
            "problems": [asdict(problem) for problem in self.problems],
            "recent": [
                {"path": o.path, "size": o.size, "modified": o.modified.isoformat() if o.modified else None}
                for o in self.recent
            ],
        }


# Yank reasons written by --quarantine start with this, so that a repair can tell its own yanks apart.
YANK_REASON_PREFIX = "verify_storage:"
HOW_TO_REPAIR = "re-upload the identical file to repair"


@dataclass
class RepairResult:
    removed: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)  # (path, why it stayed)
    yanked: list[str] = field(default_factory=list)  # "project version" newly yanked
    already_yanked: list[str] = field(default_factory=list)
    untouched_rows: list[Problem] = field(default_factory=list)  # bad rows left as they are


# ---------------------------------------------------------------- checking


def check(storage=None, *, quick: bool = False, grace: timedelta = DEFAULT_GRACE) -> Report:
    """Compare every File row with storage, and storage with the rows."""
    storage = storage or package_storage()
    started = time.monotonic()
    report = Report(quick=quick, grace=grace)
    # Storage is listed before the rows are read: a file stored after the listing
    # whose row we then read is re-checked below instead of being called missing.
    # Files kept from the upstream index are a cache of its files, not ours: no row points at them
    # (upstream.records does), and losing one costs only a fetch again.
    listed = {path for path in stored_paths(storage) if not path.startswith(UPSTREAM_FILES)}
    report.stored_files = len(listed)
    referenced: set[str] = set()
    rows = File.objects.values_list(
        "id", "path", "filename", "size", "sha256_digest", "metadata_sha256", "release__project__normalized_name"
    ).order_by("id")
    for file_id, path, filename, size, sha256, metadata_sha256, project in rows.iterator(chunk_size=2000):
        report.rows_checked += 1
        referenced.add(path)
        row = _Row(file_id, path, filename, size, sha256, metadata_sha256, project)
        report.problems += _check_row(storage, row, listed, quick, report)
    report.problems += _check_database()
    orphans, recent = _orphans(storage, listed, referenced, grace)
    report.problems += orphans
    report.recent = recent
    report.seconds = time.monotonic() - started
    return report


@dataclass(frozen=True)
class _Row:
    file_id: int
    path: str
    filename: str
    size: int
    sha256: str
    metadata_sha256: str | None
    project: str

    def problem(self, kind: str, path: str, detail: str) -> Problem:
        return Problem(kind, path, detail, filename=self.filename, project=self.project, file_id=self.file_id)


def file_damage(file: File, storage=None) -> list[Problem]:
    """What is wrong with one file's stored bytes and ``.metadata`` (sha256 of every byte); ``[]`` when intact."""
    storage = storage or package_storage()
    row = _Row(file.pk, file.path, file.filename, file.size, file.sha256_digest, file.metadata_sha256, "")
    return _check_row(storage, row, set(), quick=False, report=Report(quick=False, grace=DEFAULT_GRACE))


def _check_row(storage, row: _Row, listed: set[str], quick: bool, report: Report) -> list[Problem]:
    problems = []
    found = _measure(storage, row.path, listed, quick)
    if found is None:
        if File.objects.filter(pk=row.file_id).exists():  # not deleted while we looked
            problems.append(row.problem(MISSING, row.path, "the stored file is missing"))
        return problems
    size, sha256 = found
    if size != row.size:
        problems.append(row.problem(SIZE_MISMATCH, row.path, f"{size} bytes stored, {row.size} recorded"))
    elif sha256 is not None and sha256 != row.sha256:
        problems.append(row.problem(HASH_MISMATCH, row.path, f"sha256 {sha256} stored, {row.sha256} recorded"))
    if sha256 is not None:
        report.bytes_hashed += size
    if row.metadata_sha256:
        problems += _check_metadata(storage, row, listed, quick, report)
    return problems


def _check_metadata(storage, row: _Row, listed: set[str], quick: bool, report: Report) -> list[Problem]:
    path = metadata_path(row.path)
    found = _measure(storage, path, listed, quick)
    if found is None:
        if File.objects.filter(pk=row.file_id).exists():
            return [row.problem(METADATA_MISSING, path, "the PEP 658 .metadata file is missing")]
        return []
    size, sha256 = found
    if sha256 is None:
        return []
    report.bytes_hashed += size
    if sha256 != row.metadata_sha256:
        return [row.problem(METADATA_MISMATCH, path, f"sha256 {sha256} stored, {row.metadata_sha256} recorded")]
    return []


def _measure(storage, path: str, listed: set[str], quick: bool) -> tuple[int, str | None] | None:
    """(size, sha256) of a stored file, sha256 None when ``quick``; None when it is not there."""
    if path not in listed and not storage.exists(path):
        return None
    try:
        if quick:
            return storage.size(path), None
        digest, size = hashlib.sha256(), 0
        for chunk in _chunks(storage, path):
            digest.update(chunk)
            size += len(chunk)
        return size, digest.hexdigest()
    except Exception:
        # Backends disagree on what a missing object raises (S3: a ClientError on open).
        if not storage.exists(path):
            return None
        raise


def _chunks(storage, path: str) -> Iterator[bytes]:
    """The stored bytes, a chunk at a time: memory stays bounded whatever the file size."""
    if hasattr(storage, "bucket"):
        # S3: the storage's own open() would buffer the whole object in memory first.
        body = storage.bucket.Object(path).get()["Body"]
        try:
            yield from body.iter_chunks(_CHUNK)
        finally:
            body.close()
        return
    with storage.open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def _check_database() -> list[Problem]:
    """Rows that storage cannot show: an unregistered filename, a file the journal never recorded."""
    problems = []
    unregistered = File.objects.exclude(filename__in=Subquery(FilenameRegistry.objects.values("filename")))
    journaled = JournalEntry.objects.filter(kind=journal.FILE_ADDED).values("filename")
    unjournaled = File.objects.exclude(filename__in=Subquery(journaled))
    for kind, queryset, detail in (
        (UNREGISTERED, unregistered, "the filename is not in the filename registry"),
        (UNJOURNALED, unjournaled, "no journal entry records this file being added"),
    ):
        for file_id, path, filename, project in queryset.values_list(
            "id", "path", "filename", "release__project__normalized_name"
        ):
            problems.append(Problem(kind, path, detail, filename=filename, project=project, file_id=file_id))
    return problems


def _orphans(
    storage, listed: set[str], referenced: set[str], grace: timedelta
) -> tuple[list[Problem], list[StoredOrphan]]:
    problems: list[Problem] = []
    recent: list[StoredOrphan] = []
    cutoff = timezone.now() - grace
    candidates = [(path, ORPHAN) for path in sorted(listed) if not _is_referenced(path, referenced)]
    candidates += [(path, STALE_TEMP) for path in _temporary_files(storage)]
    for path, kind in candidates:
        if kind == ORPHAN and _referenced_now(path):  # its upload committed after we read the rows
            continue
        orphan = _describe(storage, path)
        if orphan is None:  # removed meanwhile (a delete finishing, or an upload's clean-up)
            continue
        if orphan.modified is not None and orphan.modified > cutoff:
            recent.append(orphan)
            continue
        detail = "no row points at this stored file" if kind == ORPHAN else "a write that never finished"
        if orphan.size is not None:
            detail += f" ({orphan.size} bytes"
            detail += f", stored {orphan.modified:%Y-%m-%d %H:%M} UTC)" if orphan.modified else ")"
        problems.append(Problem(kind, path, detail))
    return problems, recent


def _is_referenced(path: str, referenced: set[str]) -> bool:
    return path in referenced or (path.endswith(METADATA_SUFFIX) and path.removesuffix(METADATA_SUFFIX) in referenced)


def _referenced_now(path: str) -> bool:
    return File.objects.filter(path__in=[path, path.removesuffix(METADATA_SUFFIX)]).exists()


def _describe(storage, path: str) -> StoredOrphan | None:
    try:
        size = storage.size(path)
        modified = storage.get_modified_time(path)
    except Exception:
        if not storage.exists(path):
            return None
        raise
    if modified is not None and timezone.is_naive(modified):
        modified = timezone.make_aware(modified, timezone.get_current_timezone())
    return StoredOrphan(path, size, modified)


def _temporary_files(storage) -> Iterator[str]:
    """Local storage only: what a process killed in the middle of a write left behind."""
    if not isinstance(storage, FileSystemStorage):
        return
    root = storage.location
    for folder, _, names in os.walk(root):
        for name in names:
            if name.startswith(_TEMP_PREFIX):
                yield os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")


# ---------------------------------------------------------------- repairing


def repair(report: Report, storage=None, *, quarantine: bool = False, user=None) -> RepairResult:
    """Remove the report's orphans; with ``quarantine``, yank the releases of bad rows."""
    storage = storage or package_storage()
    result = RepairResult()
    for problem in report.of(*ORPHAN_KINDS):
        _remove_orphan(storage, problem, result)
    bad_rows = report.of(*ROW_KINDS)
    if not quarantine:
        result.untouched_rows = bad_rows
        return result
    by_release: dict[int, list[Problem]] = defaultdict(list)
    release_of = dict(
        File.objects.filter(pk__in={problem.file_id for problem in bad_rows}).values_list("pk", "release_id")
    )
    for problem in bad_rows:
        if problem.file_id in release_of:  # a file deleted since the check needs nothing
            by_release[release_of[problem.file_id]].append(problem)
    for release_id, problems in sorted(by_release.items()):
        _yank(release_id, problems, result, user)
    return result


def _remove_orphan(storage, problem: Problem, result: RepairResult) -> None:
    # Under the write lock: an upload storing these very bytes commits its row under
    # the same lock, after putting back bytes that vanished (upload.storing.restore_if_missing).
    try:
        with journal.write_transaction():
            if problem.kind == ORPHAN and _referenced_now(problem.path):
                result.kept.append((problem.path, "a row points at it now"))
                return
            storage.delete(problem.path)
    except Exception as exc:  # noqa: BLE001 - one file that cannot be removed must not stop the others
        log.exception("could not remove orphan %s", problem.path)
        result.kept.append((problem.path, f"could not be removed: {exc}"))
        return
    result.removed.append(problem.path)


def _yank(release_id: int, problems: list[Problem], result: RepairResult, user) -> None:
    release = Release.objects.select_related("project").filter(pk=release_id).first()
    if release is None:
        return  # deleted since the check: nothing left to protect
    label = f"{release.project.name} {release.version}"
    if release.yanked:
        result.already_yanked.append(label)
        return
    files = sorted({problem.filename for problem in problems})
    shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    reason = f"{YANK_REASON_PREFIX} stored bytes missing or corrupt for {shown}; {HOW_TO_REPAIR}"
    release_services.yank_release(release, reason, user=user)
    result.yanked.append(label)


def unyank_if_repaired(release: Release, storage=None, *, user=None) -> bool:
    """Undo a yank that ``--quarantine`` made, once every file of the release is intact again.

    A yank by anyone else (its reason does not start with ``YANK_REASON_PREFIX``) stays.
    """
    if not (release.yanked and release.yanked_reason.startswith(YANK_REASON_PREFIX)):
        return False
    if any(file_damage(file, storage) for file in release.files.all()):
        return False
    release_services.unyank_release(release, user=user)
    return True


# ---------------------------------------------------------------- the report as text


def render(report: Report) -> str:
    mode = "existence and size" if report.quick else "existence, size and sha256 of every byte"
    lines = [
        f"Checked {report.rows_checked} file rows ({mode}) against {report.stored_files} stored files "
        f"in {report.seconds:.1f} s; {report.bytes_hashed} bytes hashed.",
    ]
    if report.ok:
        lines.append("No problems found.")
    else:
        lines.append(f"{len(report.problems)} problem(s):")
        for problem in report.problems:
            who = f" {problem.filename} (project {problem.project})" if problem.filename else ""
            lines.append(f"  {problem.kind:<22}{who} {problem.path}: {problem.detail}")
    if report.of(*ROW_KINDS):
        lines.append(
            f"Stored bytes missing or corrupt: {HOW_TO_REPAIR} (twine upload or uv publish of the same file, "
            "or import_dists of a folder holding it), or restore it from a backup."
        )
    if report.recent:
        minutes = report.grace.total_seconds() / 60
        lines.append(
            f"Not counted: {len(report.recent)} stored file(s) without a row, younger than {minutes:g} minutes "
            "(an upload or a delete may be in flight):"
        )
        lines += [f"  {orphan.path}" for orphan in report.recent]
    return "\n".join(lines)


def render_repair(result: RepairResult) -> str:
    lines = [f"Removed {path}" for path in result.removed]
    lines += [f"Kept {path}: {why}" for path, why in result.kept]
    lines += [f"Yanked {label} (journaled)" for label in result.yanked]
    lines += [f"{label} was already yanked" for label in result.already_yanked]
    if result.untouched_rows:
        lines.append(
            f"Left {len(result.untouched_rows)} row(s) with missing or corrupt bytes as they are: {HOW_TO_REPAIR}, "
            "restore the files from a backup, delete them through the admin, or pass --quarantine to yank "
            "their releases."
        )
    return "\n".join(lines) if lines else "Nothing to repair."
