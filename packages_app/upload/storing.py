"""Stage 4's storage work: the bytes at their content-hash path, put back when lost.

The identical file uploaded again is how lost or corrupt stored bytes are
repaired: its bytes are checked against the row (sha256 of every byte), and
whatever is missing or damaged, the distribution or its ``.metadata``, is
stored again from the upload and journaled as ``restore file``.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

from django.db import DatabaseError

from packages_app import hashing, integrity, storage
from packages_app.models import File
from packages_app.services import files as file_services
from packages_app.services import uploads as upload_services
from packages_app.upload import archives
from packages_app.upload.errors import UploadError

if TYPE_CHECKING:
    from packages_app.upload.pipeline import Publication

log = logging.getLogger(__name__)


def store(pub: Publication, core_metadata: bytes | None) -> file_services.StoredFile:
    dist = pub.dist
    path = storage.distribution_path(dist.blake2_256, dist.filename)
    files = storage.package_storage()
    with open(dist.path, "rb") as handle:
        files.save(path, handle)
    metadata_sha256 = metadata_blake2_256 = None
    if core_metadata is not None:
        files.save(storage.metadata_path(path), io.BytesIO(core_metadata))
        metadata_digests = hashing.of_bytes(core_metadata)
        metadata_sha256, metadata_blake2_256 = metadata_digests.sha256, metadata_digests.blake2_256
    return file_services.StoredFile(
        filename=dist.filename,
        packagetype=dist.packagetype,
        python_version=dist.python_version,
        size=dist.size,
        sha256_digest=dist.sha256,
        md5_digest=dist.md5,
        blake2_256_digest=dist.blake2_256,
        path=path,
        metadata_sha256=metadata_sha256,
        metadata_blake2_256=metadata_blake2_256,
    )


def restore_if_missing(pub: Publication, stored: file_services.StoredFile, core_metadata: bytes | None) -> None:
    """A failed identical upload may have removed the bytes before we got the lock."""
    files = storage.package_storage()
    if not files.exists(stored.path):
        with open(pub.dist.path, "rb") as handle:
            files.save(stored.path, handle)
    if core_metadata is not None and not files.exists(storage.metadata_path(stored.path)):
        files.save(storage.metadata_path(stored.path), io.BytesIO(core_metadata))


_DISTRIBUTION_DAMAGE = {integrity.MISSING, integrity.SIZE_MISMATCH, integrity.HASH_MISMATCH}
_METADATA_DAMAGE = {integrity.METADATA_MISSING, integrity.METADATA_MISMATCH}


def restore_if_damaged(pub: Publication, file: File) -> bool:
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
        upload_services.remove_unreferenced_bytes(file.path)
        return False
    integrity.unyank_if_repaired(file.release, files, user=user)
    return True
