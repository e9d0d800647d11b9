"""Fixtures shared by the tests over HTTP."""

from __future__ import annotations

import shutil

import pytest

from packages_app.storage import package_storage
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth


@pytest.fixture(autouse=True)
def clean_storage():
    """Every test starts and ends with empty package storage (a folder of this process's own)."""
    shutil.rmtree(package_storage().location, ignore_errors=True)
    yield
    shutil.rmtree(package_storage().location, ignore_errors=True)


@pytest.fixture
def auth(db):
    """Basic credentials of the user 'owner', who may create projects by uploading."""
    UserFactory(username="owner")
    return basic_auth("owner", "correct horse battery staple")
