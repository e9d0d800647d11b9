"""A retention run concurrent with uploads loses nothing it should keep.

CI uploads a dev release after another to the real gunicorn while ``manage.py apply_retention``
runs again and again in its own processes against the same database and storage. At the end
the policy's newest releases are all there, each with its stored bytes, and only the older
ones are gone.
"""

from __future__ import annotations

import json
import os
import threading
import time

from harness.dists import normalized_name
from tests.e2e.test_upload_concurrency import make_account, make_wheel, post, unique

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
KEEP = 3
UPLOADS = 24 if ON_POSTGRES else 16
# Spread over several retention runs (a manage.py process takes a second or two to start).
PAUSE = 0.4


def test_retention_concurrent_with_uploads_keeps_the_newest(index_server, tmp_path):
    _username, token, _serial = make_account(index_server)
    authorization = f"Bearer {token}"
    name = unique("retained")
    url = f"{index_server.url}/legacy/"
    first = post(url, authorization, make_wheel(tmp_path, name, "1.0"))
    assert first.status == 200, first
    index_server.shell(
        "from packages_app.models import Project\n"
        "from packages_app.services import retention\n"
        f"retention.add_policy(Project.objects.get(name={name!r}), dev=True, keep_newest={KEEP})\n"
    )
    wheels = [make_wheel(tmp_path, name, f"1.1.dev{number}") for number in range(1, UPLOADS + 1)]
    replies = []
    done = threading.Event()

    def upload_one_after_another() -> None:
        try:
            for wheel in wheels:
                replies.append(post(url, authorization, wheel))
                time.sleep(PAUSE)
        finally:
            done.set()

    uploader = threading.Thread(target=upload_one_after_another, daemon=True)
    uploader.start()
    runs = 0
    while not done.is_set() or runs == 0:
        index_server.manage("apply_retention")
        runs += 1
    uploader.join(timeout=120)
    index_server.manage("apply_retention")
    assert [reply.status for reply in replies] == [200] * UPLOADS, [str(reply) for reply in replies]
    assert runs >= 2, "the retention runs did not overlap the uploads"

    state = json.loads(
        index_server.shell(
            "import json\n"
            "from packages_app.models import File, Release\n"
            "from packages_app.storage import package_storage\n"
            "storage = package_storage()\n"
            f"releases = Release.objects.filter(project__normalized_name={normalized_name(name)!r})\n"
            "files = File.objects.filter(release__in=releases)\n"
            "print(json.dumps({\n"
            "    'versions': sorted(releases.values_list('version', flat=True)),\n"
            "    'stored': [storage.exists(f.path) and storage.size(f.path) == f.size for f in files],\n"
            "    'files': files.count(),\n"
            "}))\n"
        )
        .strip()
        .splitlines()[-1]
    )
    newest = [f"1.1.dev{number}" for number in range(UPLOADS - KEEP + 1, UPLOADS + 1)]
    assert state["versions"] == sorted(["1.0", *newest])
    assert state["files"] == KEEP + 1
    assert all(state["stored"]), state
