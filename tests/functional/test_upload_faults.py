"""A failure half-way through an upload leaves the index exactly as it was."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.db import DatabaseError

from harness.dists import build_wheel
from packages_app.models import File, FilenameRegistry, JournalEntry, Project, Release
from packages_app.services import files as file_services
from packages_app.storage import AtomicFileSystemStorage, package_storage
from tests.functional.upload_client import post_upload, stored_files, twine_fields


def index_state():
    return (
        list(Project.objects.values_list("normalized_name", "last_serial")),
        Release.objects.count(),
        list(File.objects.values_list("filename", flat=True)),
        FilenameRegistry.objects.count(),
        JournalEntry.objects.count(),
        stored_files(),
    )


def upload_changes_nothing(client, auth, tmp_path, reason: str):
    """Upload demo 2.0 while a fault is in place: a 503 that says ``reason`` and asks for a retry, and
    the index exactly as before. Returns the wheel, for the retry once the fault is gone."""
    before = index_state()
    wheel = build_wheel(tmp_path, "demo", "2.0")
    response = post_upload(client, twine_fields(wheel, "demo", "2.0"), auth)
    assert response.status_code == 503
    assert f"{reason} Try again." in response.reason_phrase
    assert index_state() == before
    return wheel


@pytest.fixture
def existing_upload(client, auth, tmp_path):
    first = build_wheel(tmp_path / "first", "demo", "1.0")
    assert post_upload(client, twine_fields(first, "demo", "1.0"), auth).status_code == 200


def test_storage_failing_mid_write_leaves_nothing(client, auth, tmp_path, existing_upload, monkeypatch):
    storage_class = type(package_storage())  # local or S3, whichever this run uses
    original = storage_class._save

    def fail_half_way(self, name, content):
        # A storage that is not atomic (or a crash) leaves the first bytes at the real path.
        original(self, name, ContentFile(content.read(100)))
        raise OSError("disk full")

    monkeypatch.setattr(storage_class, "_save", fail_half_way)
    wheel = upload_changes_nothing(client, auth, tmp_path, "The file could not be stored; nothing was changed.")
    monkeypatch.setattr(storage_class, "_save", original)
    assert post_upload(client, twine_fields(wheel, "demo", "2.0"), auth).status_code == 200


def test_atomic_storage_never_leaves_a_temporary_file(tmp_path, monkeypatch):
    storage = AtomicFileSystemStorage(location=tmp_path)

    class Exploding:
        def seek(self, offset):
            pass

        def chunks(self):
            yield b"x" * 10
            raise OSError("connection lost")

    with pytest.raises(OSError, match="connection lost"):
        storage.save("ab/cd/file.whl", Exploding())
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == []


def test_database_failing_after_the_file_is_stored_leaves_nothing(client, auth, tmp_path, existing_upload, monkeypatch):
    stored_paths = []
    original_add_file = file_services.add_file

    def fail_after_storage(release, stored, **kwargs):
        stored_paths.append(stored.path)
        assert package_storage().exists(stored.path)  # the bytes really were written first
        raise DatabaseError("connection reset by peer")

    monkeypatch.setattr(file_services, "add_file", fail_after_storage)
    wheel = upload_changes_nothing(client, auth, tmp_path, "The upload could not be recorded; nothing was changed.")
    assert stored_paths
    monkeypatch.setattr(file_services, "add_file", original_add_file)
    assert post_upload(client, twine_fields(wheel, "demo", "2.0"), auth).status_code == 200


def test_failure_creating_a_new_project_leaves_no_project(client, auth, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise DatabaseError("deadlock detected")

    monkeypatch.setattr(file_services, "add_file", fail)
    wheel = build_wheel(tmp_path, "brand-new", "1.0")
    response = post_upload(client, twine_fields(wheel, "brand-new", "1.0"), auth)
    assert response.status_code == 503
    assert not Project.objects.exists()
    assert not JournalEntry.objects.exists()
    assert stored_files() == []
