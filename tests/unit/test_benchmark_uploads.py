"""benchmarks/uploads.py's upload runs into a growing project, against a stand-in server.

The suite itself is not part of the test run; this keeps the like-for-like upload runs honest:
every file of every version sent, in order within a version, the first version alone, and each
upload's time recorded against the files the project held.
"""

from __future__ import annotations

import http.server
import re
import threading
import time

import pytest

from tests.functional.test_seed_benchmark import _benchmark_module


class _Index(http.server.BaseHTTPRequestHandler):
    """Takes any upload; slower the more files it holds; a 409 for a filename it has."""

    protocol_version = "HTTP/1.1"
    stored: list[str] = []
    concurrent = 0
    most_concurrent = 0
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 - the handler's protocol
        body = self.rfile.read(int(self.headers["Content-Length"]))
        filename = re.search(rb'filename="([^"]+)"', body).group(1).decode()
        cls = type(self)
        with cls.lock:
            cls.concurrent += 1
            cls.most_concurrent = max(cls.most_concurrent, cls.concurrent)
            held = len(cls.stored)
        time.sleep(0.002 + 0.0005 * held)
        with cls.lock:
            cls.concurrent -= 1
            status = 409 if filename in cls.stored else 200
            cls.stored.append(filename)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def index():
    _Index.stored, _Index.concurrent, _Index.most_concurrent = [], 0, 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def dists(tmp_path, versions: int) -> list:
    found = []
    for number in range(versions):
        for filename in (f"grow-1.0.{number}-py3-none-any.whl", f"grow-1.0.{number}.tar.gz"):
            path = tmp_path / filename
            path.write_bytes(b"x" * 100)
            found.append((path, "grow", f"1.0.{number}"))
    return found


@pytest.mark.parametrize("clients", [1, 4])
def test_every_file_is_uploaded_and_timed_against_the_project_size(index, tmp_path, clients):
    uploads = _benchmark_module("uploads")
    versions = uploads.by_version(dists(tmp_path, 12))
    assert [len(files) for files in versions] == [2] * 12
    run = uploads.growing_project(uploads.Target(index, "/"), versions, clients, time_limit=60)
    assert (run.files, run.errors, run.capped) == (24, 0, False)
    assert sorted(_Index.stored) == sorted(path.name for files in versions for path, _, _ in files)
    # The first version went alone, wheel then sdist, and each version's wheel before its sdist.
    assert _Index.stored[:2] == ["grow-1.0.0-py3-none-any.whl", "grow-1.0.0.tar.gz"]
    for number in range(12):
        assert _Index.stored.index(f"grow-1.0.{number}-py3-none-any.whl") < _Index.stored.index(
            f"grow-1.0.{number}.tar.gz"
        )
    assert (_Index.most_concurrent == 1) == (clients == 1)
    befores = [before for before, _ in run.per_upload]
    assert befores[:2] == [0, 1]
    assert max(befores) <= 23
    figures = run.as_dict()
    assert figures["files_per_second"] == pytest.approx(24 / run.seconds)
    assert figures["clients"] == clients


def test_failed_uploads_are_counted_and_too_many_stop_the_run(index, tmp_path):
    uploads = _benchmark_module("uploads")
    versions = uploads.by_version(dists(tmp_path, 3))
    target = uploads.Target(index, "/")
    run = uploads.growing_project(target, versions[:1], 1, time_limit=60)
    assert run.errors == 0
    again = uploads.growing_project(target, versions, 1, time_limit=60)  # version 0's files exist: 409
    assert (again.files, again.errors) == (4, 2)
    assert "409" in again.error_samples[0]
    with pytest.raises(uploads.BenchmarkError):
        uploads.growing_project(target, versions * 4, 2, time_limit=60)
