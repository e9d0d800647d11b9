"""Stage 4: put a checked distribution into the index, all or nothing.

Order of work, and why:
1. every check that needs no write (cheap ones first, the archive last);
2. the bytes go to storage at their content-hash path, outside any
   transaction, so no lock is held while a big file is written;
3. one write transaction (index writes take turns, see
   ``journal.write_transaction``) re-checks everything that a concurrent
   upload could have changed, makes sure the stored bytes are still there,
   and records project, release and file with their journal entries;
4. if step 3 fails or finds the file was already there, the stored bytes are
   removed again, under the same lock, unless a row points at them (an
   identical upload that won the race).

The identical file uploaded again is how lost or corrupt stored bytes are
repaired: its bytes are checked against the row (sha256 of every byte), and
whatever is missing or damaged, the distribution or its ``.metadata``, is
stored again from the upload and journaled as ``restore file``.
"""

from __future__ import annotations

import hmac
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Sum
from django.utils import timezone

from packages_app import access, hashing, integrity, storage
from packages_app.authentication import Identity
from packages_app.models import File, FilenameRegistry, PackageType, Project, Release
from packages_app.services import files as file_services
from packages_app.services import journal
from packages_app.services import projects as project_services
from packages_app.services import releases as release_services
from packages_app.services import roles as role_services
from packages_app.services.errors import ServiceError
from packages_app.upload import archives
from packages_app.upload.errors import UploadError, bad_request
from packages_app.upload.metadata import ValidatedMetadata

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Distribution:
    """A received file on local disk, with what the client said about it."""

    path: Path
    filename: str
    packagetype: str
    python_version: str
    size: int
    md5: str
    sha256: str
    blake2_256: str


@dataclass(frozen=True)
class Publication:
    metadata: ValidatedMetadata
    dist: Distribution
    identity: Identity | None  # None: the operator's import, which needs no upload right
    owner: object | None = None  # made Owner of a project this creates; defaults to the identity's user
    user_agent: str = ""
    comment: str = ""
    upload_time: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    file: File | None
    created: bool  # False: the identical file was already there
    restored: bool = False  # its stored bytes were missing or corrupt, and are stored again


def human_size(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.4g} {unit}"
    return f"{size} bytes"


def _project_size_error(project_name: str) -> UploadError:
    limit = human_size(settings.MAX_PROJECT_SIZE)
    return bad_request(f"Project size too large. Limit for project '{project_name}' total size is {limit}.")


def file_too_large(project_name: str | None = None) -> UploadError:
    limit = human_size(settings.MAX_FILE_SIZE)
    if project_name is None:
        return bad_request(f"File too large. The limit is {limit}.")
    return bad_request(f"File too large. Limit for project '{project_name}' is {limit}.")


def check_digests(supplied: dict[str, str], dist: Distribution) -> None:
    computed = {"md5_digest": dist.md5, "sha256_digest": dist.sha256, "blake2_256_digest": dist.blake2_256}
    for key, value in supplied.items():
        if not hmac.compare_digest(value.lower(), computed[key]):
            raise bad_request("The digest supplied does not match a digest calculated from the uploaded file.")


def _existing_project(name: str) -> Project | None:
    return Project.objects.by_name(name).first()


def _check_permission(pub: Publication, project: Project | None) -> None:
    if pub.identity is None:
        return  # import_dists runs as the operator
    refusal = access.upload_refusal(pub.identity, project, pub.metadata.name)
    if refusal:
        raise UploadError(403, refusal)


def _duplicate(pub: Publication) -> File | None:
    """The identical file when it is already there; an error when the name or bytes clash."""
    dist = pub.dist
    clash = (
        File.objects.filter(filename=dist.filename).first()
        or File.objects.filter(blake2_256_digest=dist.blake2_256).first()
    )
    if clash is None:
        clash = File.objects.filter(sha256_digest=dist.sha256).first()
    if clash is not None:
        identical = (clash.filename, clash.sha256_digest, clash.blake2_256_digest)
        if identical == (dist.filename, dist.sha256, dist.blake2_256):
            return clash
        raise bad_request(f"File already exists ('{dist.filename}', with blake2_256 hash '{dist.blake2_256}').")
    if FilenameRegistry.objects.filter(filename=dist.filename).exists():
        raise bad_request(
            "This filename was previously used by a file that has since been deleted. Use a different version."
        )
    return None


def _check_release_open(pub: Publication, project: Project, release: Release | None) -> None:
    """``CLOSE_RELEASES_AFTER_DAYS``: a release takes files only while it is young.

    The operator's import (no identity) brings back files a release had before, so it is exempt.
    """
    limit = settings.CLOSE_RELEASES_AFTER_DAYS
    if limit is None or release is None or pub.identity is None:
        return
    age = timezone.now() - release.created
    if age > timedelta(days=limit):
        raise bad_request(
            f"Release '{project.name} {release.version}' was created {age.days} days ago; this index takes no "
            f"new files on a release older than {limit} days (CLOSE_RELEASES_AFTER_DAYS). Upload a new version instead."
        )


def _check_release_rules(pub: Publication, project: Project | None) -> None:
    if project is None:
        return
    release = release_services.find_release(project, pub.metadata.version)
    _check_release_open(pub, project, release)
    is_sdist = pub.dist.packagetype == PackageType.SDIST
    if is_sdist and release is not None and release.files.filter(packagetype=PackageType.SDIST).exists():
        raise bad_request("Only one sdist may be uploaded per release.")
    used = File.objects.filter(release__project=project).aggregate(total=Sum("size"))["total"] or 0
    if used + pub.dist.size > settings.MAX_PROJECT_SIZE:
        raise _project_size_error(project.name)


def check(pub: Publication) -> tuple[File | None, bytes | None]:
    """Every check that writes nothing.

    Returns the identical file when it is already there, else the core
    metadata to serve beside the new file.
    """
    project = _existing_project(pub.metadata.name)
    _check_permission(pub, project)
    existing = _duplicate(pub)
    if existing is not None:
        return existing, None
    _check_release_rules(pub, project)
    core_metadata = archives.inspect_distribution(pub.dist.path, pub.dist.filename, pub.dist.packagetype)
    # PEP 658 metadata is served for wheels only: an sdist's PKG-INFO may leave fields dynamic.
    return None, core_metadata if pub.dist.packagetype == PackageType.BDIST_WHEEL else None


def _store(pub: Publication, core_metadata: bytes | None) -> file_services.StoredFile:
    dist = pub.dist
    path = storage.distribution_path(dist.blake2_256, dist.filename)
    files = storage.package_storage()
    with open(dist.path, "rb") as handle:
        files.save(path, handle)
    stored = dict(
        filename=dist.filename,
        packagetype=dist.packagetype,
        python_version=dist.python_version,
        size=dist.size,
        sha256_digest=dist.sha256,
        md5_digest=dist.md5,
        blake2_256_digest=dist.blake2_256,
        path=path,
    )
    if core_metadata is not None:
        files.save(storage.metadata_path(path), io.BytesIO(core_metadata))
        metadata_digests = hashing.of_bytes(core_metadata)
        stored["metadata_sha256"] = metadata_digests.sha256
        stored["metadata_blake2_256"] = metadata_digests.blake2_256
    return file_services.StoredFile(**stored)


def _restore_if_missing(pub: Publication, stored: file_services.StoredFile, core_metadata: bytes | None) -> None:
    """A failed identical upload may have removed the bytes before we got the lock."""
    files = storage.package_storage()
    if not files.exists(stored.path):
        with open(pub.dist.path, "rb") as handle:
            files.save(stored.path, handle)
    if core_metadata is not None and not files.exists(storage.metadata_path(stored.path)):
        files.save(storage.metadata_path(stored.path), io.BytesIO(core_metadata))


def _record(pub: Publication, stored: file_services.StoredFile, core_metadata: bytes | None) -> Outcome:
    user = pub.identity.user if pub.identity else None
    owner = pub.owner if pub.owner is not None else user
    with journal.write_transaction():
        project = _existing_project(pub.metadata.name)
        _check_permission(pub, project)
        existing = _duplicate(pub)
        if existing is not None:
            return Outcome(file=existing, created=False)
        _check_release_rules(pub, project)
        _restore_if_missing(pub, stored, core_metadata)
        if project is None:
            project = project_services.create_project(pub.metadata.name, user=user)
            if owner is not None:
                role_services.grant_role(project, owner, "Owner", user=user)
        elif project.name != pub.metadata.name:
            project_services.respell(project, pub.metadata.name)
        release = _release_for(pub, project, user)
        file = file_services.add_file(
            release,
            stored,
            requires_python=pub.metadata.release_fields.get("requires_python", ""),
            user=user,
            user_agent=pub.user_agent,
            comment=pub.comment,
            upload_time=pub.upload_time,
        )
        return Outcome(file=file, created=True)


def _release_for(pub: Publication, project: Project, user) -> Release:
    release = release_services.find_release(project, pub.metadata.version)
    if release is not None:
        return release
    return release_services.create_release(
        project, pub.metadata.version, pub.metadata.release_fields, user=user, created=pub.upload_time
    )


def _remove_unreferenced(path: str) -> None:
    """Remove stored bytes that no row points at, under the write lock."""
    try:
        with journal.write_transaction():
            if File.objects.filter(path=path).exists():
                return
            files = storage.package_storage()
            for each in (path, storage.metadata_path(path)):
                if files.exists(each):
                    files.delete(each)
    except Exception:  # noqa: BLE001 - the upload's own error matters more; verify_storage finds orphans
        log.exception("could not remove unreferenced upload %s", path)


_DISTRIBUTION_DAMAGE = {integrity.MISSING, integrity.SIZE_MISMATCH, integrity.HASH_MISMATCH}
_METADATA_DAMAGE = {integrity.METADATA_MISSING, integrity.METADATA_MISMATCH}


def _restore_if_damaged(pub: Publication, file: File) -> bool:
    """Store the identical upload's bytes again where the stored ones are missing or corrupt."""
    files = storage.package_storage()
    damage = {problem.kind for problem in integrity.file_damage(file, files)}
    if not damage:
        return False
    if damage & _DISTRIBUTION_DAMAGE:
        with open(pub.dist.path, "rb") as handle:
            files.save(file.path, handle)
        # A missing distribution hides the state of its .metadata; look again.
        damage = {problem.kind for problem in integrity.file_damage(file, files)}
    if damage & _METADATA_DAMAGE:
        core_metadata = archives.inspect_distribution(pub.dist.path, pub.dist.filename, pub.dist.packagetype)
        if core_metadata is not None and hashing.of_bytes(core_metadata).sha256 == file.metadata_sha256:
            files.save(storage.metadata_path(file.path), io.BytesIO(core_metadata))
    user = pub.identity.user if pub.identity else None
    try:
        recorded = file_services.record_restored_bytes(file, user=user)
    except DatabaseError as exc:
        log.exception("recording the repair of %s failed", file.filename)
        raise UploadError(503, "The file's stored bytes were restored but not recorded. Try again.") from exc
    if not recorded:  # the file was deleted meanwhile: what we stored is an orphan
        _remove_unreferenced(file.path)
        return False
    integrity.unyank_if_repaired(file.release, files, user=user)
    return True


def publish(pub: Publication) -> Outcome:
    token = pub.identity.token if pub.identity is not None else None
    with journal.acting_token(token):  # the journal records which API token uploaded
        return _publish(pub)


def _publish(pub: Publication) -> Outcome:
    existing, core_metadata = check(pub)
    if existing is not None:
        try:
            restored = _restore_if_damaged(pub, existing)
        except UploadError:
            raise
        except Exception as exc:
            log.exception("restoring the stored bytes of %s failed", existing.filename)
            raise UploadError(503, "The file's stored bytes could not be restored. Try again.") from exc
        return Outcome(file=existing, created=False, restored=restored)
    path = storage.distribution_path(pub.dist.blake2_256, pub.dist.filename)
    try:
        try:
            stored = _store(pub, core_metadata)
        except Exception as exc:
            log.exception("storing %s failed", pub.dist.filename)
            raise UploadError(503, "The file could not be stored; nothing was changed. Try again.") from exc
        try:
            outcome = _record(pub, stored, core_metadata)
        except ServiceError as exc:
            # The re-checks under the lock should have caught this; say what clashed all the same.
            raise bad_request(str(exc)) from exc
        except DatabaseError as exc:
            log.exception("recording %s failed", pub.dist.filename)
            raise UploadError(503, "The upload could not be recorded; nothing was changed. Try again.") from exc
    except BaseException:
        _remove_unreferenced(path)
        raise
    if not outcome.created:
        _remove_unreferenced(path)
    return outcome
