"""``manage.py verify_storage`` on real uploads whose stored bytes were really damaged."""

from __future__ import annotations

import io
import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command

from harness.dists import build_wheel
from packages_app import integrity
from packages_app.models import File, FilenameRegistry, JournalEntry, Project
from packages_app.storage import distribution_path, package_storage
from tests.functional.upload_client import post_upload, twine_fields

NO_GRACE = timedelta(0)
TWO_HOURS_AGO = time.time() - 2 * 3600


def upload(client, auth, tmp_path: Path, name: str, version: str) -> File:
    wheel = build_wheel(tmp_path / f"{name}-{version}", name, version)
    response = post_upload(client, twine_fields(wheel, name, version), auth)
    assert response.status_code == 200, response.content
    return File.objects.get(filename=wheel.name)


# Damage is done through the storage API, so these tests hold for local and S3 storage alike.
def read(path: str) -> bytes:
    with package_storage().open(path, "rb") as handle:
        return handle.read()


def put(path: str, data: bytes) -> None:
    storage = package_storage()
    if storage.exists(path):
        storage.delete(path)
    storage.save(path, ContentFile(data))


def remove(path: str) -> None:
    package_storage().delete(path)


local_only = pytest.mark.skipif(
    not isinstance(package_storage(), FileSystemStorage),
    reason="needs local storage: sets a file's modification time, or makes a local temporary file",
)


def local(path: str) -> Path:
    return Path(package_storage().location) / path


def age(path: str) -> None:
    os.utime(local(path), (TWO_HOURS_AGO, TWO_HOURS_AGO))


def verify(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_storage", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def three_files(client, auth, tmp_path):
    return [upload(client, auth, tmp_path, "demo", version) for version in ("1.0", "2.0", "3.0")]


def test_a_healthy_index_reports_nothing(three_files):
    report = integrity.check(grace=NO_GRACE)
    assert report.ok, integrity.render(report)
    assert report.rows_checked == 3
    assert report.stored_files == 6  # each wheel and its PEP 658 .metadata file
    assert report.bytes_hashed == sum(f.size + len(read(f.path + ".metadata")) for f in three_files)
    code, out = verify()
    assert code == 0
    assert "No problems found." in out


def test_missing_corrupt_and_truncated_files_are_each_reported(three_files):
    missing, corrupt, truncated = three_files
    remove(missing.path)
    data = bytearray(read(corrupt.path))
    data[len(data) // 2] ^= 0x01  # one flipped bit: same size, other bytes
    put(corrupt.path, bytes(data))
    put(truncated.path, read(truncated.path)[:-10])

    report = integrity.check(grace=NO_GRACE)
    found = sorted((problem.kind, problem.filename) for problem in report.problems)
    assert found == [
        (integrity.HASH_MISMATCH, corrupt.filename),
        (integrity.MISSING, missing.filename),
        (integrity.SIZE_MISMATCH, truncated.filename),
    ]
    assert all(problem.project == "demo" for problem in report.problems)

    # --quick reads no bytes: it cannot see the corruption of equal size, and says so by not finding it.
    quick = integrity.check(quick=True, grace=NO_GRACE)
    assert quick.bytes_hashed == 0
    assert sorted(problem.kind for problem in quick.problems) == [integrity.MISSING, integrity.SIZE_MISMATCH]

    code, out = verify()
    assert code == 1
    for file in three_files:
        assert file.filename in out


def test_damaged_metadata_files_are_reported(three_files):
    gone, changed, _ = three_files
    remove(gone.path + ".metadata")
    put(changed.path + ".metadata", b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n")
    found = sorted((problem.kind, problem.filename) for problem in integrity.check(grace=NO_GRACE).problems)
    assert found == [(integrity.METADATA_MISMATCH, changed.filename), (integrity.METADATA_MISSING, gone.filename)]


def test_orphans_count_once_the_grace_period_is_over(three_files):
    put("aa/bb/cccc/ghost-1.0-py3-none-any.whl", b"bytes nobody recorded")

    # Just written: an upload may be about to commit its row, so nothing is counted yet.
    fresh = integrity.check()
    assert fresh.ok, integrity.render(fresh)
    assert [orphan.path for orphan in fresh.recent] == ["aa/bb/cccc/ghost-1.0-py3-none-any.whl"]
    code, out = verify()
    assert code == 0
    assert "Not counted: 1 stored file(s)" in out

    report = integrity.check(grace=NO_GRACE)
    assert [(p.kind, p.path) for p in report.problems] == [(integrity.ORPHAN, "aa/bb/cccc/ghost-1.0-py3-none-any.whl")]
    code, out = verify("--json", "--grace-minutes", "0")
    assert code == 1
    answer = json.loads(out)
    assert answer["ok"] is False
    assert [problem["kind"] for problem in answer["problems"]] == [integrity.ORPHAN]


@local_only
def test_a_temporary_file_left_by_a_killed_write_is_reported_once_stale(three_files):
    temp = str(Path(three_files[0].path).parent / ".incoming-k1ll3d")
    local(temp).write_bytes(b"half a wheel")
    assert [orphan.path for orphan in integrity.check().recent] == [temp]
    age(temp)
    assert [(p.kind, p.path) for p in integrity.check().problems] == [(integrity.STALE_TEMP, temp)]
    assert integrity.repair(integrity.check()).removed == [temp]
    assert not local(temp).exists()


@local_only
def test_repair_removes_old_orphans_keeps_young_ones_and_never_touches_rows(three_files):
    old = "aa/bb/cccc/ghost-1.0-py3-none-any.whl"
    put(old, b"left behind by a failed delete")
    age(old)
    young = "dd/ee/ffff/inflight-1.0-py3-none-any.whl"
    put(young, b"an upload about to commit")
    remove(three_files[0].path)
    rows_before = File.objects.count()

    code, out = verify("--repair")
    assert code == 1  # the check found problems; the status says so even after the repair
    assert f"Removed {old}" in out
    assert "Left 1 row(s)" in out
    storage = package_storage()
    assert not storage.exists(old)
    assert storage.exists(young)
    assert File.objects.count() == rows_before
    assert Project.objects.get(normalized_name="demo").status == "active"

    after = integrity.check()
    assert [problem.kind for problem in after.problems] == [integrity.MISSING]


def test_repair_removes_orphans_through_the_command(three_files):
    put("aa/bb/cccc/ghost-1.0-py3-none-any.whl", b"left behind by a failed delete")
    code, out = verify("--repair", "--grace-minutes", "0")
    assert code == 1
    assert "Removed aa/bb/cccc/ghost-1.0-py3-none-any.whl" in out
    assert verify("--grace-minutes", "0")[0] == 0
    assert File.objects.count() == 3


def test_repair_keeps_an_orphan_whose_upload_committed_after_the_check(client, auth, tmp_path):
    """The race the write lock settles: the check saw bytes without a row, then the row came."""
    wheel = build_wheel(tmp_path, "late", "1.0")
    # An earlier attempt stored these very bytes and died before its row (a killed worker).
    fields = twine_fields(wheel, "late", "1.0")
    path = distribution_path(fields["blake2_256_digest"], wheel.name)
    put(path, wheel.read_bytes())
    report = integrity.check(grace=NO_GRACE)
    assert [(p.kind, p.path) for p in report.problems] == [(integrity.ORPHAN, path)]

    assert post_upload(client, fields, auth).status_code == 200  # the retry
    result = integrity.repair(report)
    assert result.removed == []
    assert result.kept == [(path, "a row points at it now")]
    assert read(path) == wheel.read_bytes()
    assert integrity.check(grace=NO_GRACE).ok


def test_rows_without_journal_entry_or_registered_name_are_reported(three_files):
    first, second, _ = three_files
    JournalEntry.objects.filter(filename=first.filename).delete()
    FilenameRegistry.objects.filter(filename=second.filename).delete()
    found = sorted((p.kind, p.filename) for p in integrity.check(grace=NO_GRACE).problems)
    assert found == [(integrity.UNJOURNALED, first.filename), (integrity.UNREGISTERED, second.filename)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quarantine"], "pass --repair too"),
        (["--grace-minutes", "-1"], "cannot be negative"),
    ],
)
def test_usage_errors(db, args, message):
    with pytest.raises(CommandError, match=message) as error:
        call_command("verify_storage", *args, stdout=io.StringIO())
    assert error.value.returncode == 2
