"""Fixtures shared by the tests over HTTP."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, empty_storage


@pytest.fixture(autouse=True)
def clean_storage():
    """Every test starts and ends with empty package storage (of this process's own)."""
    empty_storage()
    yield
    empty_storage()


@pytest.fixture
def auth(db):
    """Basic credentials of the user 'owner', who may create projects by uploading."""
    UserFactory(username="owner")
    return basic_auth("owner", "correct horse battery staple")
