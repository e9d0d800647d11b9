"""Fixtures shared by the tests over HTTP."""

from __future__ import annotations

import pytest

from harness.upstream_index import UpstreamIndex
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


@pytest.fixture
def upstream(settings):
    """A real upstream index on loopback, the only one the index asks, with no guard, no cool-down
    and a 1 s timeout (a project in ``slow`` mode answers after 3 s, past it)."""
    with UpstreamIndex(slow_seconds=3.0) as index:
        settings.UPSTREAM_INDEX_URL = index.url
        settings.UPSTREAM_BLOCKED_PREFIXES = []
        settings.UPSTREAM_ALLOWED_PROJECTS = []
        settings.UPSTREAM_PAGE_TTL = 600
        settings.UPSTREAM_TIMEOUT_SECONDS = 1.0
        settings.UPSTREAM_COOLDOWN = ""
        settings.UPSTREAM_NOT_AFTER = ""
        yield index
