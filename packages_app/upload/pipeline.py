"""Stage 4: put a checked distribution into the index, all or nothing.

Order of work, and why:
1. the cheap refusals (permission, a clash of name or bytes), then the archive;
2. the bytes go to storage at their content-hash path, outside any
   transaction, so no lock is held while a big file is written;
3. one write transaction (index writes take turns, see
   ``journal.write_transaction``) checks permission and clashes again (a
   concurrent upload could have changed them), the release rules and quotas
   once, makes sure the stored bytes are still there, and records project,
   release and file with their journal entries;
4. if step 3 fails or finds the file was already there, the stored bytes are
   removed again, under the same lock, unless a row points at them (an
   identical upload that won the race).

The checks are in ``checks``, the bytes' storage and repair in ``storing``, and the
write in ``services.uploads``: this module keeps only the order of the stages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from django.db import DatabaseError

from packages_app import metrics, storage
from packages_app.authentication import Identity
from packages_app.models import File
from packages_app.services import files as file_services
from packages_app.services import journal
from packages_app.services import uploads as upload_services
from packages_app.services.errors import ServiceError
from packages_app.trusted_publishing import service as trusted_publishing
from packages_app.upload import checks, storing
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
    importer: object | None = None  # an import's user, recorded as its uploader (import_dists --by)
    owner: object | None = None  # made Owner of a project this creates; defaults to the identity's user
    user_agent: str = ""
    comment: str = ""
    upload_time: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    file: File
    created: bool  # False: the identical file was already there
    restored: bool = False  # its stored bytes were missing or corrupt, and are stored again


def _record(pub: Publication, stored: file_services.StoredFile, core_metadata: bytes | None) -> Outcome:
    user = pub.identity.user if pub.identity else pub.importer
    publisher = pub.identity.publisher if pub.identity else None
    new = upload_services.NewFile(
        name=pub.metadata.name,
        version=pub.metadata.version,
        release_fields=pub.metadata.release_fields,
        requires_python=pub.metadata.release_fields.get("requires_python", ""),
        stored=stored,
        user=user,
        owner=pub.owner if pub.owner is not None else user,
        user_agent=pub.user_agent,
        comment=pub.comment,
        upload_time=pub.upload_time,
        publisher=publisher.description if publisher is not None else "",
        on_project_created=None if publisher is None else partial(trusted_publishing.adopt, publisher.pk),
    )
    file, created = upload_services.record_upload(
        new,
        recheck=lambda project: checks.recheck(pub, project),
        before_write=lambda: storing.restore_if_missing(pub, stored, core_metadata),
    )
    return Outcome(file=file, created=created)


def publish(pub: Publication) -> Outcome:
    token = pub.identity.token if pub.identity is not None else None
    publisher = pub.identity.publisher if pub.identity is not None else None
    # The journal records which API token uploaded, and for a minted one which CI workload.
    with journal.acting_token(token), journal.acting_publisher(publisher.description if publisher else ""):
        return _publish(pub)


def _publish(pub: Publication) -> Outcome:
    existing, core_metadata = checks.check(pub)
    if existing is not None:
        try:
            restored = storing.restore_if_damaged(pub, existing)
        except UploadError:
            raise
        except Exception as exc:
            log.exception("restoring the stored bytes of %s failed", existing.filename)
            raise UploadError(503, "The file's stored bytes could not be restored. Try again.") from exc
        return Outcome(file=existing, created=False, restored=restored)
    path = storage.distribution_path(pub.dist.blake2_256, pub.dist.filename)
    try:
        try:
            stored = storing.store(pub, core_metadata)
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
        upload_services.remove_unreferenced_bytes(path)
        raise
    if not outcome.created:
        upload_services.remove_unreferenced_bytes(path)
    else:
        metrics.uploaded(pub.dist.size)
    return outcome
