"""The page store over many changes: one copy per page, whatever the history."""

from __future__ import annotations

import gzip
import json

from packages_app.models import Project
from packages_app.pages import store
from tests.functional.upload_client import publish

JSON_V1 = "application/vnd.pypi.simple.v1+json"
# Every stored page of one project, each asked for plain and gzipped.
PAGES = [
    ("/simple/grow/", {"HTTP_ACCEPT": JSON_V1}),
    ("/simple/grow/", {"HTTP_ACCEPT": "text/html"}),
    ("/pypi/grow/json", {}),
    ("/api/v1/projects/grow/", {}),
    ("/api/v1/projects/grow/releases/1.0/", {}),
]


def _read_every_page(client) -> list[bytes]:
    bodies = []
    for url, headers in PAGES:
        plain = client.get(url, **headers)
        zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip", **headers)
        assert plain.status_code == zipped.status_code == 200, url
        body = plain.getvalue()
        if zipped.has_header("Content-Encoding"):
            assert gzip.decompress(zipped.getvalue()) == body
        bodies.append(body)
    return bodies


def test_fifty_changes_leave_one_copy_of_each_page(client, tmp_path, auth):
    """Memory does not grow with history: after each change the store holds the current pages only."""
    publish(client, tmp_path, "grow", "1.0", auth=auth)
    _read_every_page(client)
    files_of_one_version = store.usage().files
    counts = []
    for number in range(1, 51):
        publish(client, tmp_path, "grow", f"1.{number}", auth=auth)
        bodies = _read_every_page(client)
        usage = store.usage()
        counts.append(usage.files)
        # Each page and its gzip form once; the incremental builds' raw states (store.Group) an
        # index each and the segments it names: at most MAX_SEGMENTS (one at first).
        assert usage.files < files_of_one_version + 2 * store.MAX_SEGMENTS, f"after change {number}"
    assert max(counts[25:]) <= max(counts[:25])  # no growth with history
    # Nothing but the current pages: their bytes bound what is kept (each page, its gzip
    # form, and the pieces the incremental builds keep, about one more copy, plus the dead
    # parts of their segments until compacted: under 3x).
    assert usage.bytes < 3 * sum(len(body) for body in bodies)
    serial = Project.objects.get(normalized_name="grow").last_serial
    assert json.loads(bodies[0])["meta"]["_last-serial"] == serial
    assert len(json.loads(bodies[0])["versions"]) == 51
