"""Lost or corrupt stored bytes are repaired by bringing the identical file again
(issue 18): through the upload endpoint or ``import_dists``; ``verify_storage`` says so,
and ``--quarantine`` yanks only the releases whose files are lost."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from harness.dists import build_sdist, build_wheel
from packages_app.models import File, JournalEntry, Project, Release
from tests.functional.test_verify_storage import put, read, remove, verify
from tests.functional.upload_client import post_upload, twine_fields


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload_path(client, auth, path: Path, name: str, version: str):
    return post_upload(client, twine_fields(path, name, version), auth)


@pytest.fixture
def uploaded(client, auth, tmp_path):
    """One wheel of demo 1.0, uploaded; returns (its path on disk, its row)."""
    wheel = build_wheel(tmp_path / "dist", "demo", "1.0")
    assert upload_path(client, auth, wheel, "demo", "1.0").status_code == 200
    return wheel, File.objects.get()


def damage(kind: str, file: File) -> None:
    if kind == "missing":
        remove(file.path)
    elif kind == "corrupt":  # same size, one byte changed: only the sha256 can tell
        data = bytearray(read(file.path))
        data[len(data) // 2] ^= 0xFF
        put(file.path, bytes(data))
    elif kind == "truncated":
        put(file.path, read(file.path)[:100])
    elif kind == "metadata-missing":
        remove(file.metadata_path)


@pytest.mark.parametrize("kind", ["missing", "corrupt", "truncated", "metadata-missing"])
def test_reuploading_the_identical_file_restores_its_stored_bytes(client, auth, uploaded, kind):
    wheel, file = uploaded
    metadata_before = read(file.metadata_path)
    damage(kind, file)
    assert verify()[0] == 1
    serial_before = JournalEntry.objects.order_by("-id").first().id

    response = upload_path(client, auth, wheel, "demo", "1.0")
    assert response.status_code == 200, response.content
    assert "restored" in response.content.decode()
    assert sha256(read(file.path)) == file.sha256_digest == sha256(wheel.read_bytes())
    assert read(file.metadata_path) == metadata_before
    code, out = verify()
    assert (code, "No problems found." in out) == (0, True), out
    [entry] = JournalEntry.objects.filter(id__gt=serial_before)
    assert (entry.action, entry.filename) == (f"restore file {wheel.name}", wheel.name)
    assert File.objects.count() == 1


def test_an_intact_file_reuploaded_changes_nothing_and_journals_nothing(client, auth, uploaded):
    wheel, _file = uploaded
    serial_before = JournalEntry.objects.order_by("-id").first().id
    response = upload_path(client, auth, wheel, "demo", "1.0")
    assert response.status_code == 200
    assert "already present" in response.content.decode()
    assert not JournalEntry.objects.filter(id__gt=serial_before).exists()


def test_other_bytes_under_the_same_name_restore_nothing(client, auth, uploaded, tmp_path):
    _wheel, file = uploaded
    remove(file.path)
    impostor = build_wheel(tmp_path / "other", "demo", "1.0", module_body="evil = True\n")
    response = upload_path(client, auth, impostor, "demo", "1.0")
    assert response.status_code == 400
    assert "File already exists" in response.content.decode()
    assert verify()[0] == 1  # still missing


def test_an_sdist_is_restored_too(client, auth, tmp_path):
    sdist = build_sdist(tmp_path, "demo", "1.0")
    assert upload_path(client, auth, sdist, "demo", "1.0").status_code == 200
    file = File.objects.get()
    remove(file.path)
    assert upload_path(client, auth, sdist, "demo", "1.0").status_code == 200
    assert sha256(read(file.path)) == file.sha256_digest


def test_import_dists_restores_lost_bytes_of_files_it_finds_again(db, tmp_path):
    folder = tmp_path / "export"
    wheel = build_wheel(folder, "demo", "1.0")
    build_sdist(folder, "demo", "1.0")
    call_command("import_dists", str(folder), stdout=io.StringIO())
    file = File.objects.get(filename=wheel.name)
    remove(file.path)
    remove(file.metadata_path)
    assert verify()[0] == 1

    out = io.StringIO()
    call_command("import_dists", str(folder), stdout=out)
    assert "Imported 0, skipped 1 (already present), rejected 0." in out.getvalue()
    assert "Restored 1 already in the index whose stored bytes were missing or corrupt." in out.getvalue()
    assert sha256(read(file.path)) == file.sha256_digest
    assert verify()[0] == 0


def test_verify_storage_tells_how_to_repair(client, auth, uploaded):
    _wheel, file = uploaded
    remove(file.path)
    code, out = verify()
    assert code == 1
    assert "re-upload the identical file to repair" in out


# ---------------------------------------------------------------- --quarantine yanks what is lost


@pytest.fixture
def two_releases(client, auth, tmp_path):
    """demo 1.0 (a wheel and an sdist) and demo 2.0 (a wheel)."""
    paths = {}
    for version in ("1.0", "2.0"):
        paths[version] = [build_wheel(tmp_path / version, "demo", version)]
        if version == "1.0":
            paths[version].append(build_sdist(tmp_path / version, "demo", version))
        for path in paths[version]:
            assert upload_path(client, auth, path, "demo", version).status_code == 200
    return paths


def test_quarantine_yanks_only_the_release_whose_file_is_lost(client, auth, two_releases):
    lost = File.objects.get(filename=two_releases["1.0"][0].name)
    remove(lost.path)
    serial_before = JournalEntry.objects.order_by("-id").first().id

    code, out = verify("--repair", "--quarantine")
    assert code == 1  # the exit status says what the check found, even after a repair
    assert "Yanked demo 1.0" in out
    first, second = Release.objects.get(version="1.0"), Release.objects.get(version="2.0")
    assert (first.yanked, second.yanked) == (True, False)
    assert lost.filename in first.yanked_reason
    assert "re-upload the identical file" in first.yanked_reason
    assert Project.objects.get().status == "active"  # 2.0 is still offered
    [entry] = JournalEntry.objects.filter(id__gt=serial_before)
    assert (entry.action, entry.version) == ("yank release", "1.0")
    page = client.get("/simple/demo/", HTTP_ACCEPT="application/vnd.pypi.simple.v1+json").json()
    yanked = {each["filename"]: each["yanked"] for each in page["files"]}
    assert yanked[two_releases["2.0"][0].name] is False
    assert yanked[lost.filename] == first.yanked_reason

    # A second run yanks nothing again and journals nothing.
    code, out = verify("--repair", "--quarantine")
    assert "demo 1.0 was already yanked" in out
    assert JournalEntry.objects.filter(id__gt=serial_before).count() == 1


def test_reuploading_the_lost_file_unyanks_what_verify_storage_yanked(client, auth, two_releases):
    wheel = two_releases["1.0"][0]
    remove(File.objects.get(filename=wheel.name).path)
    verify("--repair", "--quarantine")
    assert Release.objects.get(version="1.0").yanked

    assert upload_path(client, auth, wheel, "demo", "1.0").status_code == 200
    release = Release.objects.get(version="1.0")
    assert (release.yanked, release.yanked_reason) == (False, "")
    assert verify()[0] == 0


def test_a_release_yanked_by_its_owner_stays_yanked_after_a_repair(client, auth, two_releases):
    from packages_app.services import releases

    wheel = two_releases["1.0"][0]
    releases.yank_release(Release.objects.get(version="1.0"), "broken build")
    remove(File.objects.get(filename=wheel.name).path)
    assert upload_path(client, auth, wheel, "demo", "1.0").status_code == 200
    release = Release.objects.get(version="1.0")
    assert (release.yanked, release.yanked_reason) == (True, "broken build")
