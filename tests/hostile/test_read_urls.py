"""Hostile URLs, query strings and headers on every endpoint that reads a name, version,
path, time, cursor or filter: a 4xx that says why, nothing logged as an error, and the
same request without the hostile part answered as usual (so each endpoint is really reached)."""

from __future__ import annotations

import logging

import pytest

from packages_app.models import File
from tests.functional.upload_client import publish
from tests.hostile import catalogue


@pytest.fixture
def wheel(client, tmp_path, owner_auth) -> File:
    publish(client, tmp_path, "demo", "1.0", auth=owner_auth)
    return File.objects.get()


def _request(client, read: catalogue.Read, url: str, headers: dict):
    response = client.generic(read.method, url, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body.decode("utf-8", "replace")


@pytest.mark.parametrize("case", catalogue.params("read"))
def test_reads_refuse_hostile_urls(client, wheel, caplog, case):
    read = case.make()
    places = {"file": wheel.path, "sha256": wheel.sha256_digest}
    with caplog.at_level(logging.WARNING):
        response, body = _request(client, read, read.url.format(**places), read.headers)
    assert response.status_code == case.status, body[:500]
    assert case.expect in body, body[:500]
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
    sound, body = _request(client, read, read.sound.format(**places), {})
    assert sound.status_code == read.sound_status, body[:500]
