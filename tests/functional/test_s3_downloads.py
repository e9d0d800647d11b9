"""Files on S3 (a real moto server on 127.0.0.1): redirects, signed or public, and streaming with ranges."""

from __future__ import annotations

import hashlib
import json
import urllib.request

import pytest
from django.test import Client, override_settings

from harness import s3
from harness.dists import build_sdist, build_wheel
from indexsite.storages import s3_storage
from packages_app.models import File, Visibility
from packages_app.services import projects, tokens
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, post_upload, stored_files, twine_fields

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def endpoint():
    with s3.moto_server() as url:
        yield url


def s3_storages(endpoint: str, bucket: str, public_base_url: str | None = None, read_access: str = "public") -> dict:
    """The STORAGES entry indexsite.settings makes for FILE_STORAGE=s3 (its own function)."""
    packages = s3_storage(
        bucket=bucket,
        endpoint_url=endpoint,
        region=s3.CREDENTIALS["S3_REGION"],
        access_key=s3.CREDENTIALS["S3_ACCESS_KEY_ID"],
        secret_key=s3.CREDENTIALS["S3_SECRET_ACCESS_KEY"],
        public_base_url=public_base_url,
        read_access=read_access,
    )
    packages["OPTIONS"]["url_protocol"] = "http:"  # the test server speaks plain http
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    return {"default": packages, "packages": packages, "staticfiles": static}


@pytest.fixture
def uploaded(client, auth, tmp_path, endpoint):
    """A wheel uploaded into a fresh bucket; yields (wheel bytes, file row, bucket)."""
    bucket = s3.new_bucket(endpoint, "pyindex-downloads")
    with override_settings(STORAGES=s3_storages(endpoint, bucket)):
        wheel = build_wheel(tmp_path, "demo", "1.0")
        assert post_upload(client, twine_fields(wheel, "demo", "1.0"), auth).status_code == 200
        assert stored_files() == sorted([File.objects.get().path, File.objects.get().metadata_path])
        yield wheel.read_bytes(), File.objects.get(), bucket


def fetch(url: str, headers: dict | None = None) -> bytes:
    assert url.startswith("http://127.0.0.1:")
    with _opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
        return response.read()


def test_by_default_a_download_is_a_signed_redirect_to_the_store(client, uploaded, settings):
    data, file, _bucket = uploaded
    settings.S3_DOWNLOADS = "redirect"
    response = client.get(f"/packages/{file.path}")
    assert response.status_code == 302
    location = response["Location"]
    assert "Signature=" in location or "X-Amz-Signature=" in location
    assert hashlib.sha256(fetch(location)).hexdigest() == file.sha256_digest == hashlib.sha256(data).hexdigest()


def make_public(endpoint: str, bucket: str) -> str:
    """Open the bucket to anonymous reads; its public address (path-style) on this server."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
        ],
    }
    s3.client(endpoint).put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    return f"{endpoint}/{bucket}"


def test_with_a_public_base_url_the_redirect_is_unsigned(client, uploaded, endpoint, settings):
    data, file, bucket = uploaded
    settings.S3_DOWNLOADS = "redirect"
    public = make_public(endpoint, bucket)
    with override_settings(STORAGES=s3_storages(endpoint, bucket, public_base_url=public)):
        response = client.get(f"/packages/{file.path}")
    assert response.status_code == 302
    assert response["Location"] == f"{public}/{file.path}"
    assert fetch(response["Location"]) == data


def test_a_private_index_redirects_to_a_signed_url_even_with_a_public_base_url(client, uploaded, endpoint, settings):
    data, file, bucket = uploaded
    settings.S3_DOWNLOADS = "redirect"
    public = make_public(endpoint, bucket)
    storages = s3_storages(endpoint, bucket, public_base_url=public, read_access="authenticated")
    with override_settings(STORAGES=storages):
        response = client.get(f"/packages/{file.path}")
    assert response.status_code == 302
    assert response["Location"] != f"{public}/{file.path}"
    assert "Signature=" in response["Location"] or "X-Amz-Signature=" in response["Location"]
    assert fetch(response["Location"]) == data


def test_a_restricted_projects_file_never_goes_to_the_public_base_url(client, uploaded, endpoint, settings):
    """On an open index with a public bucket address, a restricted project's file is streamed to
    its reader: the unsigned URL would give it to anyone."""
    data, file, bucket = uploaded
    settings.S3_DOWNLOADS = "redirect"
    public = make_public(endpoint, bucket)
    projects.set_visibility(file.release.project, Visibility.RESTRICTED)
    staff = UserFactory(username="sam", is_staff=True)
    reader = Client(HTTP_AUTHORIZATION=basic_auth("__token__", tokens.create_token(staff, read_only=True)[1]))
    with override_settings(STORAGES=s3_storages(endpoint, bucket, public_base_url=public)):
        assert client.get(f"/packages/{file.path}").status_code == 404
        response = reader.get(f"/packages/{file.path}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert "private" in response["Cache-Control"]


def test_streaming_from_the_store_serves_whole_files_ranges_and_metadata(client, uploaded, settings):
    data, file, _bucket = uploaded
    settings.S3_DOWNLOADS = "stream"
    whole = client.get(f"/packages/{file.path}")
    assert whole.status_code == 200
    assert b"".join(whole.streaming_content) == data
    assert whole["Content-Length"] == str(len(data))

    tail = client.get(f"/packages/{file.path}", HTTP_RANGE="bytes=-100")
    assert tail.status_code == 206
    assert b"".join(tail.streaming_content) == data[-100:]
    assert tail["Content-Range"] == f"bytes {len(data) - 100}-{len(data) - 1}/{len(data)}"

    metadata = client.get(f"/packages/{file.metadata_path}")
    assert metadata.status_code == 200
    assert hashlib.sha256(b"".join(metadata.streaming_content)).hexdigest() == file.metadata_sha256


def test_an_object_missing_from_the_store_is_a_clear_404(client, uploaded, settings):
    _data, file, _bucket = uploaded
    settings.S3_DOWNLOADS = "stream"
    from packages_app.storage import package_storage

    package_storage().delete(file.path)
    response = client.get(f"/packages/{file.path}")
    assert response.status_code == 404
    assert b"missing from storage" in response.content


def test_an_sdist_reaches_a_redirected_client_byte_for_byte(client, auth, tmp_path, endpoint, settings):
    """Stored as it is served: a .tar.gz labelled ``Content-Encoding: gzip`` would be unpacked by
    clients that follow the redirect (aiohttp, browsers), and its sha256 would not match."""
    settings.S3_DOWNLOADS = "redirect"
    bucket = s3.new_bucket(endpoint, "pyindex-sdist")
    with override_settings(STORAGES=s3_storages(endpoint, bucket)):
        sdist = build_sdist(tmp_path, "demo", "1.0")
        assert post_upload(client, twine_fields(sdist, "demo", "1.0"), auth).status_code == 200
        file = File.objects.get()
        location = client.get(f"/packages/{file.path}")["Location"]
    with _opener.open(urllib.request.Request(location, headers={"Accept-Encoding": "gzip"}), timeout=10) as response:
        assert response.headers.get("Content-Encoding") is None
        assert response.headers["Content-Type"] == "application/gzip"
        assert response.headers["Cache-Control"] == "max-age=31536000, public, immutable"
        assert hashlib.sha256(response.read()).hexdigest() == file.sha256_digest
