"""Post distributions to /legacy/ the way twine does, through Django's test client."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile

from harness import upload_form
from harness.dists import build_sdist, build_wheel
from packages_app.storage import package_storage, stored_paths


def basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def twine_fields(path: Path, name: str, version: str, /, **overrides) -> dict:
    """The multipart fields twine sends for this file (``None`` drops a field)."""
    data = path.read_bytes()
    fields = {
        **upload_form.twine_fields(path.name, name, version, upload_form.digests(data)),
        "content": SimpleUploadedFile(path.name, data, content_type="application/octet-stream"),
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def post_upload(client, fields: dict, auth: str | None):
    extra = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return client.post("/legacy/", fields, **extra)


def stored_files() -> list[str]:
    """Every file in the package storage (local or S3)."""
    return sorted(stored_paths())


def empty_storage() -> None:
    """Remove every stored file: each test starts with an empty store of this process's own."""
    storage = package_storage()
    if isinstance(storage, FileSystemStorage):
        shutil.rmtree(storage.location, ignore_errors=True)  # stray temporaries and empty folders too
        return
    for name in stored_paths(storage):
        storage.delete(name)


def publish(client, directory: Path, name: str, version: str, *, auth: str, sdist: bool = False, **options) -> Path:
    """Build a wheel (or sdist) and upload it as twine would; fail the test if refused.

    ``options`` go to the builder; ``requires_python`` is also sent as the form field.
    """
    directory = directory / f"{name}-{version}-{'sdist' if sdist else 'wheel'}"
    directory.mkdir(parents=True, exist_ok=True)
    path = (build_sdist if sdist else build_wheel)(directory, name, version, **options)
    fields = twine_fields(path, name, version, requires_python=options.get("requires_python"))
    response = post_upload(client, fields, auth)
    assert response.status_code == 200, response.content
    return path
