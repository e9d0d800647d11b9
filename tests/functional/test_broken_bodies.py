"""A request body that breaks off while a view reads it: a 400 for the client, no traceback."""

from __future__ import annotations

import logging

import pytest


class BrokenStream:
    """A WSGI input whose connection is reset (the client went away, or the watchdog closed it)."""

    def read(self, size: int = -1) -> bytes:
        raise ConnectionResetError(104, "Connection reset by peer")

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/RPC2", "text/xml"), ("/pypi", "text/xml"), ("/_/oidc/mint-token", "application/json")],
)
def test_a_body_that_breaks_off_is_a_400_and_no_error_is_logged(client, db, path, content_type, caplog, settings):
    settings.READ_ACCESS = "public"
    with caplog.at_level(logging.INFO):
        response = client.generic(
            "POST", path, b"", content_type=content_type, CONTENT_LENGTH="4096", **{"wsgi.input": BrokenStream()}
        )
    assert response.status_code == 400, response.content
    assert b"could not be read" in response.content
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
