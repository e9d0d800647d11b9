"""Download counts under the real gunicorn: each worker's flushing thread writes its counts."""

from __future__ import annotations

import json
import time
import urllib.request

from tests.e2e.helpers import started_index_server
from tests.e2e.test_upload_concurrency import make_account, make_wheel, post

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
DOWNLOADS = 12


def fetch(url: str) -> bytes:
    with _opener.open(url, timeout=30) as response:  # noqa: S310 - the loopback index under test
        return response.read()


def test_workers_write_their_counts(tmp_path):
    with started_index_server(tmp_path, workers=2, extra_env={"DOWNLOAD_COUNT_FLUSH_SECONDS": "1"}) as server:
        _username, token, _serial = make_account(server)
        wheel = make_wheel(tmp_path, "counted", "1.0")
        assert post(f"{server.url}/legacy/", f"Bearer {token}", wheel).status == 200
        page = json.loads(
            _opener.open(  # noqa: S310
                urllib.request.Request(
                    f"{server.url}/simple/counted/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
                ),
                timeout=30,
            ).read()
        )
        file_url = page["files"][0]["url"]
        if file_url.startswith("/"):
            file_url = server.url + file_url
        for _ in range(DOWNLOADS):
            assert fetch(file_url) == wheel.data
        deadline = time.monotonic() + 20
        while True:
            body = json.loads(fetch(f"{server.url}/api/v1/projects/counted/downloads/"))
            if body["total"] >= DOWNLOADS or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert body["total"] == DOWNLOADS
        assert body["releases"] == [{"version": "1.0", "downloads": DOWNLOADS}]
