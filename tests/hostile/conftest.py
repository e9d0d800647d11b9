"""Fixtures for the hostile-input tests: an empty store, a user who may upload,
and a folder of this test's own for Django's temporary upload files."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from tests.functional.conftest import clean_storage  # noqa: F401 - the same autouse fixture: an empty store
from tests.functional.upload_client import basic_auth

PASSWORD = "correct horse battery staple"  # the factories' password


@pytest.fixture
def owner(db):
    return UserFactory(username="owner", email="owner-private@corp.invalid")


@pytest.fixture
def owner_auth(owner) -> str:
    return basic_auth("owner", PASSWORD)


@pytest.fixture
def upload_temp_dir(tmp_path, settings):
    """Where Django spools uploads: must be empty once each request is answered."""
    folder = tmp_path / "upload-temp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder
