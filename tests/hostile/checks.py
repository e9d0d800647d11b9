"""What every hostile input must leave behind: a 4xx that says why, no row, no
stored or temporary file, and an index that still takes a sound upload."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from harness.dists import build_wheel
from harness.upload_form import Upload, form_for
from packages_app.models import File, FilenameRegistry, JournalEntry, Project, Release, Role
from packages_app.storage import stored_paths

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]+")


def index_state() -> tuple:
    """Every row an upload could write, and every stored file."""
    return (
        list(Project.objects.order_by("pk").values_list("normalized_name", "last_serial", "status")),
        list(Release.objects.order_by("pk").values_list("pk", "version", "yanked")),
        list(File.objects.order_by("pk").values_list("filename", flat=True)),
        FilenameRegistry.objects.count(),
        JournalEntry.objects.count(),
        Role.objects.count(),
        sorted(stored_paths()),
    )


def send(client, upload: Upload, auth: str | None, path: str = "/legacy/", **extra):
    if auth:
        extra["HTTP_AUTHORIZATION"] = auth
    if upload.content_length is not None:
        extra["CONTENT_LENGTH"] = upload.content_length
        # A plain stream: like a real server's, it ends where the body ends, whatever was declared.
        extra["wsgi.input"] = io.BytesIO(upload.body)
    return client.generic("POST", path, upload.body, content_type=upload.content_type, **extra)


def as_reason_phrase(message: str) -> str:
    """What survives of a message in an HTTP reason phrase (see upload.views.error_response)."""
    return _UNPRINTABLE.sub(" ", message).encode("latin-1", "replace").decode("latin-1")


def assert_refused(response, expect: str, status: int = 400) -> None:
    """A 4xx whose reason phrase (what twine prints) and body (what uv prints) both say why."""
    body = response.content.decode("utf-8", "replace")
    assert response.status_code == status, (response.status_code, response.reason_phrase, body[:500])
    assert 400 <= response.status_code < 500
    assert expect in body, body[:500]
    assert as_reason_phrase(expect) in response.reason_phrase, response.reason_phrase


def assert_nothing_kept(before: tuple, upload_temp_dir: Path) -> None:
    assert index_state() == before
    leftovers = sorted(path.name for path in upload_temp_dir.iterdir())
    assert leftovers == [], f"temporary upload files left behind: {leftovers}"


def assert_index_healthy(client, directory: Path, auth: str) -> None:
    """A sound upload is taken, listed and served, as if nothing had happened before it."""
    wheel = build_wheel(directory / "healthy", "healthy", "1.0")
    response = send(client, Upload.of(form_for(wheel, "healthy", "1.0")), auth)
    assert response.status_code == 200, response.content
    page = client.get("/simple/healthy/", HTTP_ACCEPT="application/vnd.pypi.simple.v1+json")
    assert page.status_code == 200
    (entry,) = page.json()["files"]
    assert entry["filename"] == wheel.name
    download = client.get(entry["url"])
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == entry["hashes"]["sha256"]
