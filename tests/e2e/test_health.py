"""/_health/ on a real gunicorn whose database is down: 503, naming the part that failed."""

from __future__ import annotations

import contextlib
import json
import time

from harness.loopback import http_get
from harness.servers import free_port, server_environment
from tests.e2e.helpers import IndexServer

UNREACHABLE_DATABASE = "postgres://postgres@127.0.0.1:1/nothing-listens-here"


def test_a_server_without_its_database_says_so(tmp_path):
    data_dir = tmp_path / "data"
    env = server_environment(data_dir, UNREACHABLE_DATABASE)
    server = IndexServer(url=f"http://127.0.0.1:{free_port()}", env=env, data_dir=data_dir, log_path=tmp_path / "log")
    server._start()
    try:
        answer = None
        deadline = time.monotonic() + 30
        while answer is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                answer = http_get(f"{server.url}/_health/", timeout=5)
            time.sleep(0.2)
        assert answer is not None, server.log_tail()
        assert answer.status == 503, answer.text
        checks = json.loads(answer.body)["checks"]
        assert checks["database"] == "error: OperationalError"
        assert checks["storage"] == "ok"
        assert "127.0.0.1:1" not in answer.text
        assert "health check database failed" in server.log_tail(200)  # the details are in the log
    finally:
        server._stop()
