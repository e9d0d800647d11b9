"""Download counts: whole downloads only, added up in memory and written in batches, shown in
the API and the admin."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from packages_app import download_counts
from packages_app.models import DownloadCount, File
from packages_app.services import releases, tokens
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, publish


@pytest.fixture
def published(client, db, tmp_path, settings):
    settings.READ_ACCESS = "public"
    settings.DOWNLOAD_COUNTS = True
    download_counts.discard()
    auth = basic_auth("__token__", tokens.create_token(UserFactory(username="alice"), name="ci")[1])
    publish(client, tmp_path, "demo", "1.0", auth=auth)
    publish(client, tmp_path, "demo", "2.0", auth=auth)
    yield {file.release.version: file for file in File.objects.select_related("release")}
    download_counts.discard()


def read(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def url(file: File) -> str:
    return f"/packages/{file.path}"


def test_whole_downloads_are_counted_and_nothing_else(client, published):
    old, new = published["1.0"], published["2.0"]
    for _ in range(3):
        response = client.get(url(new))
        assert response.status_code == 200
        read(response)
    read(client.get(url(old)))
    client.head(url(new))
    read(client.get(url(new), HTTP_RANGE="bytes=0-9"))
    client.get(url(new), HTTP_IF_NONE_MATCH=f'"{new.sha256_digest}"')
    read(client.get(url(new) + ".metadata"))
    assert not DownloadCount.objects.exists()  # nothing written while serving
    assert download_counts.flush() == 4
    assert download_counts.flush() == 0
    counted = dict(DownloadCount.objects.values_list("release__version", "count"))
    assert counted == {"2.0": 3, "1.0": 1}
    row = DownloadCount.objects.get(file=new)
    assert (row.release_id, row.project_id) == (new.release_id, new.release.project_id)
    # A later batch of the same day adds to the day's row.
    read(client.get(url(new)))
    download_counts.flush()
    assert DownloadCount.objects.get(file=new).count == 4


def test_serving_a_file_writes_nothing(client, published):
    with CaptureQueriesContext(connection) as queries:
        read(client.get(url(published["1.0"])))
    writes = [q["sql"] for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []


def test_counts_of_a_deleted_file_are_dropped(client, published):
    read(client.get(url(published["1.0"])))
    releases.delete_release(published["1.0"].release)
    assert download_counts.flush() == 1
    assert not DownloadCount.objects.exists()


def test_counting_can_be_turned_off(client, published, settings):
    settings.DOWNLOAD_COUNTS = False
    read(client.get(url(published["1.0"])))
    assert download_counts.flush() == 0


def test_the_api_gives_downloads_by_day_and_release(client, published):
    for version, times in (("1.0", 2), ("2.0", 5)):
        for _ in range(times):
            read(client.get(url(published[version])))
    download_counts.flush()
    body = client.get("/api/v1/projects/DEMO/downloads/?days=7").json()
    assert body["project"] == "demo"
    assert body["total"] == body["in_period"] == 7
    assert [day["downloads"] for day in body["daily"]] == [7]
    assert body["releases"] == [{"version": "2.0", "downloads": 5}, {"version": "1.0", "downloads": 2}]
    assert client.get("/api/v1/projects/demo/downloads/?days=0").status_code == 400
    assert client.get("/api/v1/projects/nope/downloads/").status_code == 404


def test_the_admin_shows_a_projects_downloads(admin_client, client, published):
    read(client.get(url(published["1.0"])))
    download_counts.flush()
    project = published["1.0"].release.project
    page = admin_client.get(f"/admin/packages_app/project/{project.pk}/change/")
    assert b"1 in the last 30 days, 1 in all" in page.content
