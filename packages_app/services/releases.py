"""Release writes: register (with or without files), yank, unyank, delete."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError

from packages_app import core_metadata, versions
from packages_app.models import File, Project, Release
from packages_app.services import journal
from packages_app.services.errors import Conflict, ServiceError

# Release fields a caller may set from core metadata.
METADATA_FIELDS = frozenset(core_metadata.COLUMNS)


def create_release(
    project: Project, version: str, metadata: dict[str, Any] | None = None, *, user=None, created=None
) -> Release:
    """Register a release; it may never get files (PyPI holds tens of thousands such)."""
    metadata = dict(metadata or {})
    unknown = set(metadata) - METADATA_FIELDS
    if unknown:
        raise ServiceError(f"Unknown release metadata: {', '.join(sorted(unknown))}.")
    version = version.strip()
    if not version:
        raise ServiceError("A release needs a version.")
    extra = {"created": created} if created is not None else {}
    try:
        with journal.write_transaction():
            release = Release.objects.create(
                project=project,
                version=version,
                **versions.release_columns(version),
                created_by=user if user is not None and user.is_authenticated else None,
                **metadata,
                **extra,
            )
            journal.record("new release", kind=journal.RELEASE_CREATED, project=project, version=version, user=user)
    except IntegrityError as exc:
        existing = find_release(project, version)
        if existing is None:  # not a duplicate: a fault, which a retry may get past
            raise
        raise Conflict(f"{project.name} already has a release {existing.version}.") from exc
    return release


def find_release(project: Project, version: str) -> Release | None:
    return project.releases.by_version(version).first()


def yank_release(release: Release, reason: str = "", *, user=None) -> Release:
    """PEP 592: installers skip a yanked release unless it is pinned exactly."""
    return _set_yanked(release, True, reason, "yank release", journal.RELEASE_YANKED, user)


def unyank_release(release: Release, *, user=None) -> Release:
    return _set_yanked(release, False, "", "unyank release", journal.RELEASE_UNYANKED, user)


@journal.write_transaction()
def _set_yanked(release: Release, yanked: bool, reason: str, action: str, kind: str, user) -> Release:
    """Yanking and unyanking are one write: the flag, its reason, and the journal entry that moves the serial."""
    release = Release.objects.select_related("project").get(pk=release.pk)
    release.yanked = yanked
    release.yanked_reason = reason
    release.save(update_fields=["yanked", "yanked_reason"])
    journal.record(action, kind=kind, project=release.project, version=release.version, user=user)
    return release


@journal.write_transaction()
def delete_release(release: Release, *, user=None) -> None:
    """Delete a release and its files; their filenames can never be used again."""
    release = Release.objects.select_related("project").get(pk=release.pk)
    delete_releases(release.project, [release.pk], user=user)


@journal.write_transaction()
def delete_releases(project: Project, release_ids: list[int], *, user=None) -> None:
    """Delete releases of ``project`` and their files in one go, one journal entry each, oldest
    first (retention deletes hundreds at a time; one by one, the ORM's cascade dominated)."""
    from packages_app.services.files import schedule_storage_delete, stored_paths_and_size

    releases = Release.objects.filter(project=project, pk__in=release_ids)
    doomed = list(releases.order_by("sort_key").values_list("version", flat=True))
    paths, size = stored_paths_and_size(File.objects.filter(release__in=releases))
    releases.delete()
    for number, version in enumerate(doomed):
        # The files' bytes leave the project's total with the first entry, in its statement.
        journal.record(
            "remove release",
            kind=journal.RELEASE_DELETED,
            project=project,
            version=version,
            user=user,
            size_change=-size if number == 0 else 0,
        )
    schedule_storage_delete(paths)
