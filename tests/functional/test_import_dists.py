"""manage.py import_dists: an operator bringing in an old index's files."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from harness.dists import build_sdist, build_wheel
from packages_app.models import File, JournalEntry, Project, Release, Role
from packages_app.storage import package_storage
from tests.factories import UserFactory

OLD_TIME = datetime(2019, 5, 4, 3, 2, 1, tzinfo=UTC)


def run_import(*args) -> str:
    out = StringIO()
    call_command("import_dists", *args, stdout=out)
    return out.getvalue()


def pkg_info(name: str, version: str) -> bytes:
    return f"Metadata-Version: 1.0\nName: {name}\nVersion: {version}\nSummary: old times\n".encode()


def legacy_sdist(directory, name: str, version: str):
    """A pre-PEP 625 sdist: display-cased name, non-PEP 440 version."""
    path = directory / f"{name}-{version}.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        data = pkg_info(name, version)
        info = tarfile.TarInfo(f"{name}-{version}/PKG-INFO")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return path


def egg(directory, name: str, version: str):
    path = directory / f"{name}-{version}-py2.7.egg"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("EGG-INFO/PKG-INFO", pkg_info(name, version))
        archive.writestr(f"{name.lower()}/__init__.py", "")
    return path


@pytest.fixture
def export(tmp_path):
    """A pypiserver-style folder: flat files, some nested, one broken."""
    root = tmp_path / "export"
    (root / "nested").mkdir(parents=True)
    build_wheel(root, "modern", "1.0")
    build_sdist(root, "modern", "1.0")
    build_wheel(root / "nested", "modern", "2.0rc1")
    legacy_sdist(root, "OldThing", "2004d")
    egg(root, "Eggy", "0.3")
    (root / "broken-1.0-py3-none-any.whl").write_bytes(b"not a zip")
    (root / "README.txt").write_text("not a distribution")
    for path in root.rglob("*"):
        os.utime(path, (OLD_TIME.timestamp(), OLD_TIME.timestamp()))
    return root


def test_import_brings_in_every_valid_file_and_reports_the_rest(db, export):
    owner = UserFactory(username="ops")
    output = run_import(str(export), "--owner", "ops", "--upload-time-from-mtime")
    assert "Imported 5, skipped 0 (already present), rejected 1." in output
    assert "rejected broken-1.0-py3-none-any.whl: Invalid distribution file." in output
    assert sorted(Project.objects.values_list("normalized_name", flat=True)) == ["eggy", "modern", "oldthing"]
    assert set(Role.objects.values_list("user__username", "role_name").distinct()) == {("ops", "Owner")}
    assert Role.objects.filter(user=owner).count() == 3
    assert File.objects.get(filename="Eggy-0.3-py2.7.egg").packagetype == "bdist_egg"
    legacy = Release.objects.get(project__normalized_name="oldthing")
    assert (legacy.version, legacy.summary) == ("2004d", "old times")
    assert all(file.upload_time == OLD_TIME for file in File.objects.all())
    assert all(release.created == OLD_TIME for release in Release.objects.all())
    wheel = File.objects.get(filename="modern-1.0-py3-none-any.whl")
    assert package_storage().exists(wheel.path)
    assert package_storage().exists(wheel.metadata_path)


def test_a_second_import_skips_what_is_there(db, export):
    run_import(str(export))
    serial = JournalEntry.objects.count()
    output = run_import(str(export))
    assert "Imported 0, skipped 5 (already present), rejected 1." in output
    assert JournalEntry.objects.count() == serial


def test_without_mtime_flag_upload_time_is_now(db, export):
    run_import(str(export))
    assert all(file.upload_time > OLD_TIME for file in File.objects.all())


def test_missing_folder_and_owner_are_errors(db, tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        run_import(str(tmp_path / "nope"))
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run_import(str(tmp_path), "--owner", "ghost")


def test_an_import_records_who_imported(db, export):
    """--by names the importer (journal actor and uploader); --owner alone is also the importer."""
    UserFactory(username="ops")
    mover = UserFactory(username="mover")
    run_import(str(export), "--owner", "ops", "--by", "mover")
    added = JournalEntry.objects.filter(kind="file-added")
    assert added.count() == 5
    assert set(added.values_list("submitted_by__username", flat=True)) == {"mover"}
    assert set(File.objects.values_list("uploaded_by", flat=True)) == {mover.pk}
    assert set(Role.objects.values_list("user__username", flat=True)) == {"ops"}  # Owner stays --owner
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run_import(str(export), "--by", "ghost")


def test_an_import_without_a_user_is_an_operators(db, export):
    run_import(str(export))
    assert set(JournalEntry.objects.filter(kind="file-added").values_list("submitted_by", flat=True)) == {None}
    ops = UserFactory(username="ops2")
    build_wheel(export, "later", "1.0")
    run_import(str(export), "--owner", "ops2")
    assert File.objects.get(filename="later-1.0-py3-none-any.whl").uploaded_by == ops
