"""The legacy JSON builders on their own: file entries, URLs, the latest release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from legacy_api import json_pages
from packages_app.links import AbsoluteUrls
from packages_app.models import File, PackageType
from tests.factories import FileFactory, ProjectFactory, ReleaseFactory

URLS = AbsoluteUrls(
    files_base="https://idx.example/packages/",
    project_page="https://idx.example/p/{}/",
    release_page="https://idx.example/p/{}/r/{}/",
)


def _page(file, *, with_releases: bool = True) -> dict:
    release = file.release
    return json_pages.project_page(release.project, release, URLS, with_releases=with_releases)


@pytest.mark.parametrize(
    ("moment", "plain", "iso"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), "2026-01-02T03:04:05", "2026-01-02T03:04:05.123456Z"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05", "2026-01-02T03:04:05.000000Z"),
        (
            datetime(2026, 1, 2, 1, 4, 5, 7, tzinfo=timezone(timedelta(hours=-2))),
            "2026-01-02T03:04:05",
            "2026-01-02T03:04:05.000007Z",
        ),
        (datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "1999-12-31T23:59:59", "1999-12-31T23:59:59.999999Z"),
    ],
)
def test_upload_times_are_utc(db, moment, plain, iso):
    (entry,) = _page(FileFactory(upload_time=moment))["urls"]
    assert (entry["upload_time"], entry["upload_time_iso_8601"]) == (plain, iso)


def test_file_entry_fields(db):
    file = FileFactory(
        packagetype=PackageType.BDIST_EGG,
        python_version="2.7",
        comment_text="built on a Tuesday",
        metadata_sha256=None,
        release__requires_python=">=2.7",
        release__yanked=True,
        release__yanked_reason="",
    )
    (entry,) = _page(file)["urls"]
    assert entry["url"] == f"https://idx.example/packages/{file.path}"
    assert (entry["packagetype"], entry["python_version"]) == ("bdist_egg", "2.7")
    assert entry["comment_text"] == "built on a Tuesday"
    assert entry["core-metadata"] is False
    assert (entry["requires_python"], entry["yanked"], entry["yanked_reason"]) == (">=2.7", True, None)
    assert entry["digests"] == {
        "md5": file.md5_digest,
        "sha256": file.sha256_digest,
        "blake2b_256": file.blake2_256_digest,
    }


def test_core_metadata_and_empty_comment(db):
    (entry,) = _page(FileFactory(metadata_sha256="ab" * 32, comment_text=""))["urls"]
    assert entry["core-metadata"] == {"sha256": "ab" * 32}
    assert entry["comment_text"] is None
    assert entry["requires_python"] is None


def test_page_urls_use_the_normalised_name(db):
    release = ReleaseFactory(project=ProjectFactory(name="Some_Thing"), version="2.0")
    page = json_pages.project_page(release.project, release, URLS, with_releases=False)
    assert page["info"]["name"] == "Some_Thing"
    assert page["info"]["project_url"] == page["info"]["package_url"] == "https://idx.example/p/some-thing/"
    assert page["info"]["release_url"] == "https://idx.example/p/some-thing/r/2.0/"
    assert "releases" not in page


def test_releases_are_keyed_by_version_with_their_own_files(db):
    project = ProjectFactory(name="multi")
    first, second, empty = (ReleaseFactory(project=project, version=v) for v in ("1.0", "2.0", "3.0.dev1"))
    FileFactory(release=first)
    FileFactory(release=second)
    FileFactory(release=second, filename="multi-2.0.tar.gz", packagetype="sdist")
    page = json_pages.project_page(project, second, URLS, with_releases=True)
    assert {version: [f["filename"] for f in files] for version, files in page["releases"].items()} == {
        "1.0": ["multi-1.0-py3-none-any.whl"],
        "2.0": ["multi-2.0-py3-none-any.whl", "multi-2.0.tar.gz"],
        "3.0.dev1": [],
    }
    assert page["urls"] == page["releases"]["2.0"]
    assert empty.version in page["releases"]


def test_latest_release_of_a_project_without_releases(db):
    assert ProjectFactory().releases.latest() is None


# ---------------------------------------------------------------- the per-process file-entry cache


def _wheels(release, count: int) -> list:
    name = release.project.name.lower()
    return [
        FileFactory(release=release, filename=f"{name}-{release.version}-py3{index}-none-any.whl")
        for index in range(count)
    ]


def _filenames(page: dict) -> list[str]:
    return sorted(entry["filename"] for entry in page["urls"])


def test_a_file_deleted_during_a_build_is_left_out(db):
    """The build reads its file rows twice, outside one transaction: a delete may fall between."""
    release = ReleaseFactory(project=ProjectFactory(name="shrinking"), version="1.0")
    kept, deleted = _wheels(release, 2)

    done = []

    def delete_first(execute, sql, params, many, context):
        if "md5_digest" in sql and not done:  # the second read, of the files' full rows
            done.append(True)  # once: the delete reads file rows itself (for their download counts)
            File.objects.filter(pk=deleted.pk).delete()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(delete_first):
        page = _page(kept, with_releases=True)
    assert _filenames(page) == [kept.filename]
    assert [entry["filename"] for entry in page["releases"]["1.0"]] == [kept.filename]
