"""Storage failing on write and on delete: afterwards the index is consistent.

Where the machine allows it the fault is real: the local storage folder made
read-only (``chattr +i`` for root, whom permissions do not stop; ``chmod``
otherwise), so the real ``AtomicFileSystemStorage`` fails in the kernel. A
failure of one call only (the ``.metadata`` write, a delete during an upload's
clean-up) comes from that method of the configured backend (local or S3)
raising the error a full disk or a failing device gives.

After every fault, ``integrity.check`` (what ``manage.py verify_storage`` runs)
must find nothing wrong, or exactly the orphan the fault is documented to
leave, which ``repair`` then removes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import DatabaseError

from harness.dists import build_wheel
from packages_app import integrity
from packages_app.models import File, FilenameRegistry, JournalEntry, Project, Release
from packages_app.services import files as file_services
from packages_app.storage import package_storage
from tests.functional.upload_client import post_upload, stored_files, twine_fields

NO_GRACE = timedelta(0)
NOT_STORED = "The file could not be stored; nothing was changed. Try again."
NOT_RECORDED = "The upload could not be recorded; nothing was changed. Try again."


# ---------------------------------------------------------------- helpers shared by the fault tests


def snapshot() -> tuple:
    """Everything an upload could change: rows, registry, journal, serials, stored files."""
    return (
        sorted(Project.objects.values_list("normalized_name", "last_serial", "status")),
        sorted(Release.objects.values_list("project__normalized_name", "version")),
        sorted(File.objects.values_list("filename", "sha256_digest", "path")),
        sorted(FilenameRegistry.objects.values_list("filename", flat=True)),
        list(JournalEntry.objects.order_by("id").values_list("id", "action", "filename")),
        stored_files(),
    )


def assert_consistent() -> None:
    """No row without its bytes, no bytes without a row, every file journaled, serials in step."""
    report = integrity.check(grace=NO_GRACE)
    assert report.ok, integrity.render(report)
    for project in Project.objects.all():
        newest = JournalEntry.objects.filter(name=project.name).order_by("-id").values_list("id", flat=True).first()
        assert project.last_serial == newest, (project.name, project.last_serial, newest)


def upload(client, auth, directory: Path, name: str, version: str):
    wheel = build_wheel(directory / f"{name}-{version}", name, version)
    return wheel, post_upload(client, twine_fields(wheel, name, version), auth)


def _chattr(flag: str, path: Path) -> bool:
    chattr = shutil.which("chattr")
    if chattr is None:
        return False
    result = subprocess.run([chattr, "-R", flag, str(path)], capture_output=True, check=False)
    return result.returncode == 0


@contextlib.contextmanager
def read_only(folder: Path):
    """Make ``folder`` and everything in it unwritable for this process, for real."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        made = _chattr("+i", folder)
        undo = lambda: _chattr("-i", folder)  # noqa: E731
    else:
        modes = {path: path.stat().st_mode for path in [folder, *folder.rglob("*")] if path.is_dir()}
        for path in modes:
            path.chmod(0o555)
        made = True

        def undo():
            for path, mode in modes.items():
                path.chmod(mode)

    try:
        probe = folder / "probe"
        try:
            probe.write_bytes(b"")
        except OSError:
            pass
        else:
            probe.unlink()
            made = False
        if not made:
            pytest.skip(f"cannot make {folder} read-only here (no chattr for root, or a file system that ignores it)")
        yield
    finally:
        undo()


local_only = pytest.mark.skipif(
    not isinstance(package_storage(), FileSystemStorage), reason="makes the local storage folder read-only"
)


@pytest.fixture
def storage_root() -> Path:
    return Path(package_storage().location)


@pytest.fixture
def existing(client, auth, tmp_path):
    wheel, response = upload(client, auth, tmp_path, "demo", "1.0")
    assert response.status_code == 200
    return File.objects.get(filename=wheel.name)


# ---------------------------------------------------------------- write failures


@local_only
def test_read_only_storage_refuses_the_upload_and_changes_nothing(client, auth, tmp_path, existing, storage_root):
    before = snapshot()
    with read_only(storage_root):
        wheel, response = upload(client, auth, tmp_path, "demo", "2.0")
        assert response.status_code == 503
        assert NOT_STORED in response.reason_phrase
        _, new_project = upload(client, auth, tmp_path, "brand-new", "1.0")
        assert new_project.status_code == 503
    assert snapshot() == before
    assert_consistent()
    _, retry = upload(client, auth, tmp_path, "demo", "2.0")
    assert retry.status_code == 200, retry.content
    assert_consistent()


@pytest.fixture
def storage_fails(monkeypatch):
    """Make one method of the configured storage backend (local or S3) fail; undone with ``monkeypatch.undo``."""
    backend = type(package_storage())

    def on_metadata_write():
        original = backend._save

        def _save(self, name, content):
            if name.endswith(".metadata"):
                raise OSError(28, "No space left on device")
            return original(self, name, content)

        monkeypatch.setattr(backend, "_save", _save)

    def on_delete():
        def delete(self, name):
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(backend, "delete", delete)

    return SimpleNamespace(on_metadata_write=on_metadata_write, on_delete=on_delete)


def test_metadata_write_failing_after_the_distribution_was_stored(
    client, auth, tmp_path, existing, storage_fails, monkeypatch
):
    before = snapshot()
    storage_fails.on_metadata_write()
    _, response = upload(client, auth, tmp_path, "demo", "2.0")
    assert response.status_code == 503
    assert NOT_STORED in response.reason_phrase
    assert snapshot() == before  # the distribution written first was removed again
    monkeypatch.undo()
    assert_consistent()
    _, retry = upload(client, auth, tmp_path, "demo", "2.0")
    assert retry.status_code == 200
    assert_consistent()


def test_database_and_then_the_clean_up_failing_leave_only_an_orphan(
    client, auth, tmp_path, existing, storage_fails, monkeypatch
):
    """Two faults in a row: the upload's row cannot be written, then its bytes cannot be removed."""
    before = snapshot()
    storage_fails.on_delete()

    def fail(*args, **kwargs):
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(file_services, "add_file", fail)
    wheel, response = upload(client, auth, tmp_path, "demo", "2.0")
    assert response.status_code == 503
    assert NOT_RECORDED in response.reason_phrase
    monkeypatch.undo()
    rows_before, files_before = before[:5], before[5]
    assert snapshot()[:5] == rows_before  # no row, no journal entry, no project change
    report = integrity.check(grace=NO_GRACE)
    orphans = [(problem.kind, problem.path.rsplit("/", 1)[1]) for problem in report.problems]
    assert sorted(orphans) == [(integrity.ORPHAN, wheel.name), (integrity.ORPHAN, wheel.name + ".metadata")]
    assert sorted(set(stored_files()) - set(files_before)) == sorted(problem.path for problem in report.problems)
    # Nothing of it is served: downloads go through the rows.
    assert client.get(f"/packages/{report.problems[0].path}").status_code == 404
    result = integrity.repair(report)
    assert len(result.removed) == 2
    assert_consistent()
    _, retry = upload(client, auth, tmp_path, "demo", "2.0")
    assert retry.status_code == 200
    assert_consistent()


# ---------------------------------------------------------------- delete failures


def _delete_through_the_service(file: File, admin_client) -> None:
    file_services.delete_file(file)


def _delete_through_the_admin(file: File, admin_client) -> None:
    response = admin_client.post(
        "/admin/packages_app/file/",
        {"action": "delete_files", "_selected_action": [file.pk], "confirm": "yes"},
    )
    assert response.status_code == 302


@local_only
@pytest.mark.parametrize("delete", [_delete_through_the_service, _delete_through_the_admin])
def test_read_only_storage_on_delete_leaves_an_orphan_never_a_row_without_bytes(
    client, admin_client, existing, storage_root, django_capture_on_commit_callbacks, delete
):
    """The row goes first (reversible until commit), the bytes after commit (irreversible).

    If removing the bytes fails, what is left is an orphan: never served (downloads
    go through the rows), reported by verify_storage, removed by its repair. The
    other order could lose bytes whose row then survives a rollback.
    """
    paths = [existing.path, existing.path + ".metadata"]
    with read_only(storage_root):
        with django_capture_on_commit_callbacks(execute=True):
            delete(existing, admin_client)
    assert not File.objects.filter(pk=existing.pk).exists()
    assert JournalEntry.objects.order_by("-id").first().action == f"remove file {existing.filename}"
    assert FilenameRegistry.objects.filter(filename=existing.filename).exists()
    assert sorted(stored_files()) == sorted(paths)  # the bytes stayed
    assert client.get(f"/packages/{existing.path}").status_code == 404
    assert existing.filename not in client.get("/simple/demo/").content.decode()

    report = integrity.check(grace=NO_GRACE)
    assert sorted((p.kind, p.path) for p in report.problems) == [(integrity.ORPHAN, path) for path in sorted(paths)]
    assert sorted(integrity.repair(report).removed) == sorted(paths)
    assert stored_files() == []
    assert_consistent()


@pytest.mark.parametrize("delete", [_delete_through_the_service, _delete_through_the_admin])
def test_delete_failing_in_storage_is_logged_not_raised(
    admin_client, existing, storage_fails, monkeypatch, django_capture_on_commit_callbacks, caplog, delete
):
    storage_fails.on_delete()
    with django_capture_on_commit_callbacks(execute=True):
        delete(existing, admin_client)
    assert not File.objects.exists()
    assert f"could not delete stored file {existing.path}" in caplog.text
    monkeypatch.undo()
    assert sorted(p.kind for p in integrity.check(grace=NO_GRACE).problems) == [integrity.ORPHAN] * 2
