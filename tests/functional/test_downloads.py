"""/packages/: distributions and PEP 658 metadata, with caching headers and byte ranges."""

from __future__ import annotations

import hashlib

import pytest
from django.utils.http import http_date

from packages_app.models import File, Project
from packages_app.services import projects
from packages_app.storage import package_storage
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, publish
from tests.streaming import close_unread


@pytest.fixture
def files(client, tmp_path, db):
    UserFactory(username="owner")
    auth = basic_auth("owner", "correct horse battery staple")
    wheel = publish(client, tmp_path, "demo", "1.0", auth=auth, requires_python=">=3.9")
    sdist = publish(client, tmp_path, "demo", "1.0", auth=auth, sdist=True)
    return {
        "wheel": (File.objects.get(filename=wheel.name), wheel.read_bytes()),
        "sdist": (File.objects.get(filename=sdist.name), sdist.read_bytes()),
    }


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize(("kind", "content_type"), [("wheel", "application/zip"), ("sdist", "application/gzip")])
def test_download(client, files, kind, content_type, django_assert_num_queries):
    file, data = files[kind]
    with django_assert_num_queries(1):
        response = client.get(f"/packages/{file.path}")
    assert response.status_code == 200
    assert body(response) == data
    assert response["Content-Type"] == content_type
    assert "Content-Encoding" not in response  # a .tar.gz is the file itself, not an encoding
    assert response["Content-Length"] == str(len(data))
    assert response["ETag"] == f'"{file.sha256_digest}"'
    assert response["Last-Modified"] == http_date(file.upload_time.timestamp())
    assert response["Accept-Ranges"] == "bytes"
    assert "immutable" in response["Cache-Control"]


def test_core_metadata_file(client, files):
    file, _ = files["wheel"]
    response = client.get(f"/packages/{file.path}.metadata")
    metadata = body(response)
    assert response.status_code == 200
    assert hashlib.sha256(metadata).hexdigest() == file.metadata_sha256
    assert metadata.startswith(b"Metadata-Version: ")
    assert b"Requires-Python: >=3.9" in metadata
    assert response["Content-Length"] == str(len(metadata))
    assert response["ETag"] == f'"{file.metadata_sha256}"'


@pytest.mark.parametrize(
    "path",
    [
        "nothing/here/demo-1.0.tar.gz",
        "{sdist}.metadata",  # sdists have no separate metadata file
        "{wheel}.asc",
        "../../etc/passwd",
    ],
)
def test_unknown_paths_are_404(client, files, path):
    path = path.format(wheel=files["wheel"][0].path, sdist=files["sdist"][0].path)
    response = client.get(f"/packages/{path}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-9", 0, 10), ("bytes=-22", -22, None), ("bytes=100-", 100, None), ("bytes=5-5", 5, 6)],
)
def test_range_requests(client, files, header, start, end):
    file, data = files["wheel"]
    response = client.get(f"/packages/{file.path}", HTTP_RANGE=header)
    expected = data[start:end]
    assert response.status_code == 206
    assert body(response) == expected
    assert response["Content-Length"] == str(len(expected))
    first = start % len(data)
    assert response["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/{len(data)}"


def test_range_past_the_end_is_416(client, files):
    file, data = files["wheel"]
    response = client.get(f"/packages/{file.path}", HTTP_RANGE=f"bytes={len(data)}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(data)}"


@pytest.mark.parametrize("header", ["bytes=0-1,4-5", "bytes=9-2", "pages=1-2"])
def test_ranges_we_do_not_serve_get_the_whole_file(client, files, header):
    file, data = files["wheel"]
    response = client.get(f"/packages/{file.path}", HTTP_RANGE=header)
    assert response.status_code == 200
    assert body(response) == data


def test_if_range_with_a_stale_validator_gets_the_whole_file(client, files):
    file, data = files["wheel"]
    stale = client.get(f"/packages/{file.path}", HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE='"0000"')
    assert (stale.status_code, body(stale)) == (200, data)
    current = client.get(f"/packages/{file.path}", HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE=f'"{file.sha256_digest}"')
    assert (current.status_code, body(current)) == (206, data[:4])
    dated = client.get(
        f"/packages/{file.path}", HTTP_RANGE="bytes=0-3", HTTP_IF_RANGE=http_date(file.upload_time.timestamp())
    )
    assert dated.status_code == 206
    close_unread(dated)


def test_revalidation_is_304(client, files):
    file, _ = files["wheel"]
    response = client.get(f"/packages/{file.path}", HTTP_IF_NONE_MATCH=f'"{file.sha256_digest}"')
    assert response.status_code == 304
    assert response["ETag"] == f'"{file.sha256_digest}"'
    response = client.get(f"/packages/{file.path}", HTTP_IF_MODIFIED_SINCE=http_date(file.upload_time.timestamp()))
    assert response.status_code == 304


def test_head_sends_length_without_body(client, files):
    file, data = files["wheel"]
    response = client.head(f"/packages/{file.path}")
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(data))
    assert body(response) == b""


def test_writes_are_not_allowed(client, files):
    file, _ = files["wheel"]
    assert client.post(f"/packages/{file.path}").status_code == 405


def test_quarantined_files_are_not_offered_but_archived_ones_are(client, files):
    file, _ = files["wheel"]
    project = Project.objects.get(normalized_name="demo")
    projects.set_status(project, "archived")
    offered = client.get(f"/packages/{file.path}")
    assert offered.status_code == 200
    close_unread(offered)
    projects.set_status(project, "quarantined")
    assert client.get(f"/packages/{file.path}").status_code == 404
    assert client.get(f"/packages/{file.path}.metadata").status_code == 404


def test_a_recorded_file_missing_from_storage_is_404_not_a_crash(client, files):
    file, _ = files["wheel"]
    package_storage().delete(file.path)
    response = client.get(f"/packages/{file.path}")
    assert response.status_code == 404
    assert b"missing from storage" in response.content
