"""``/_metrics/`` under the real gunicorn: every worker's counts add up in one scrape.

Each worker is a process with its own counters; the index's gunicorn.conf.py puts them in
prometheus_client's multiprocess folder when METRICS_TOKEN is set, so a scrape, whichever
worker answers it, reports the requests all of them served.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.helpers import started_index_server

TOKEN = "e2e-metrics-token-0123456789"
REQUESTS = 40


def get(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """One request on a connection of its own, so that both workers take some: status and body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_a_scrape_adds_up_every_workers_counts(tmp_path):
    with started_index_server(tmp_path, workers=2, extra_env={"METRICS_TOKEN": TOKEN}) as server:
        for _ in range(REQUESTS):
            assert get(server.url, "/simple/")[0] == 200
        status, body = get(server.url, "/_metrics/", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200, body
        assert get(server.url, "/_metrics/")[0] == 401
        counted = 0.0
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name == "pyindex_requests_total" and sample.labels.get("route") == "simple/":
                    counted += sample.value
        # One worker's own counters would hold about half of them.
        assert counted == REQUESTS
