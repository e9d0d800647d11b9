"""The upload's write: its project (with the first Owner), release and file, and their
journal entries, in one write transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from packages_app import storage
from packages_app.models import File, Project, Release, RoleName
from packages_app.services import files as file_services
from packages_app.services import journal
from packages_app.services import projects as project_services
from packages_app.services import releases as release_services
from packages_app.services import roles as role_services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewFile:
    """An accepted upload whose bytes are stored, waiting for its rows."""

    name: str  # the project's name as this upload spells it
    version: str
    release_fields: dict
    requires_python: str
    stored: file_services.StoredFile
    user: object | None  # who uploads; None: the operator's import
    owner: object | None  # made Owner of a project this upload creates
    user_agent: str = ""
    comment: str = ""
    upload_time: datetime | None = None
    publisher: str = ""  # the trusted publisher uploading, described
    # Called in the write transaction with the project this upload creates (a pending trusted publisher's).
    on_project_created: Callable[[Project], None] | None = None


def record_upload(
    new: NewFile,
    *,
    recheck: Callable[[Project | None], tuple[File | None, Release | None]],
    before_write: Callable[[], None],
) -> tuple[File, bool]:
    """Record the upload: ``(file, created)``.

    Under the write lock ``recheck`` runs the checks that depend on the index as it is
    then (what a concurrent upload could have changed): it raises to refuse, or returns
    the identical file already there, and then nothing is written; else the release of
    this version when there is one. ``before_write`` runs just before the first write.
    """
    with journal.write_transaction():
        project = Project.objects.by_name(new.name).first()
        existing, release = recheck(project)
        if existing is not None:
            return existing, False
        before_write()
        if project is None:
            project = project_services.create_project(new.name, user=new.user)
            if new.owner is not None:
                role_services.grant_role(project, new.owner, RoleName.OWNER, user=new.user)
            if new.on_project_created is not None:
                new.on_project_created(project)
        elif project.name != new.name:
            project_services.respell(project, new.name)
        if release is None:
            release = release_services.create_release(
                project, new.version, new.release_fields, user=new.user, created=new.upload_time
            )
        file = file_services.add_file(
            release,
            new.stored,
            requires_python=new.requires_python,
            user=new.user,
            user_agent=new.user_agent,
            comment=new.comment,
            upload_time=new.upload_time,
            publisher=new.publisher,
        )
        return file, True


def remove_unreferenced_bytes(path: str) -> None:
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
