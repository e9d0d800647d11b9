"""LOG_FORMAT=json: gunicorn's access log as one JSON object a line, whatever the client sends."""

from __future__ import annotations

import contextlib
import json
import time

from harness.loopback import http_get
from tests.e2e.helpers import IndexServer, started_index_server

HOSTILE_AGENT = 'pip/24 "quoted" back\\slash \t tab'
SECRET = "pyidx_not-a-real-token-but-secret"


def test_access_lines_are_json_with_the_request_fields(tmp_path):
    with started_index_server(tmp_path, extra_env={"LOG_FORMAT": "json"}) as server:
        headers = {"User-Agent": HOSTILE_AGENT, "X-Request-ID": "req-42", "Authorization": f"Bearer {SECRET}"}
        assert server.get("/simple/?x=1", headers=headers).status == 401  # a made-up token
        assert http_get(f"{server.url}/simple/no-such-project/").status == 404
        lines = _wait_for_access_line(server, "/simple/no-such-project/")
    records = [json.loads(line) for line in lines]  # every line, not only the access lines, is JSON
    access = [record for record in records if record["logger"] == "gunicorn.access"]
    first = next(record for record in access if record["path"] == "/simple/")
    assert first["method"] == "GET"
    assert first["query"] == "x=1"
    assert first["status"] == 401
    assert first["user_agent"] == HOSTILE_AGENT
    assert first["request_id"] == "req-42"
    assert first["bytes"] > 0
    assert first["duration_ms"] >= 0
    assert any(record["path"] == "/simple/no-such-project/" and record["status"] == 404 for record in access)
    assert SECRET not in server.log_path.read_text()


def _wait_for_access_line(server: IndexServer, path: str) -> list[str]:
    """The log's lines, once gunicorn has logged a request for ``path`` (it logs after answering)."""
    deadline = time.monotonic() + 5
    while True:
        lines = [line for line in server.log_path.read_text().splitlines() if line.strip()]
        with contextlib.suppress(ValueError):
            if any(json.loads(line).get("path") == path for line in lines):
                return lines
        assert time.monotonic() < deadline, "\n".join(lines[-20:])
        time.sleep(0.05)
