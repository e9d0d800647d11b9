"""A gunicorn worker SIGKILLed in the middle of an upload: the index stays consistent.

The real server (gunicorn, production settings, local storage) on this run's
database: SQLite, or a throw-away PostgreSQL database when ``DATABASE_URL`` is
PostgreSQL. The worker serving the upload is found through the socket of the
client's own connection (``/proc/net/tcp`` and the workers' file descriptors)
and killed with SIGKILL at three moments:

- while the body is still streaming in (nothing stored yet);
- after the bytes were stored, while the write transaction waits for the index's
  write lock, which the test holds (an orphan remains: no row points at it);
- on PostgreSQL, inside the write transaction after every row was written (a
  trigger makes it sleep there).

Afterwards: no row and no journal entry for the upload, nothing of it served,
no temporary file in storage, ``verify_storage`` reports nothing (or, with no
grace period, exactly the orphan), and the same upload retried succeeds.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from harness import load_storm, upload_form
from harness.dists import build_wheel
from tests.e2e.helpers import REPO_ROOT

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
PASSWORD = "worker kill battery staple"
WAIT = 30  # seconds for anything the test waits on
# services.journal's advisory lock: holding it makes every index write wait.
JOURNAL_LOCK_KEY = 0x707969_6E6478

pytestmark = pytest.mark.skipif(
    os.environ.get("FILE_STORAGE", "").strip().lower() == "s3",
    reason="looks into the server's local storage folder for stored and temporary files",
)


@pytest.fixture(scope="module")
def index_server(tmp_path_factory) -> Iterator[load_storm.StormServer]:
    base = tmp_path_factory.mktemp("worker-kill")
    database = "postgres" if ON_POSTGRES else "sqlite"
    url = os.environ.get("DATABASE_URL", "")
    with load_storm.storm_server(base, database, url, workers=2) as server:
        server.shell(
            "from django.contrib.auth import get_user_model\n"
            f"get_user_model().objects.create_user('killer', password={PASSWORD!r})\n"
        )
        yield server


# ---------------------------------------------------------------- the upload, sent by hand


@dataclass
class Upload:
    name: str
    path: Path

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @property
    def filename(self) -> str:
        return self.path.name

    def body(self) -> tuple[bytes, bytes, str]:
        """(everything before the file's bytes, everything after, content type)."""
        form = upload_form.twine_form(self.data, self.filename, self.name, "1.0", summary="Killed mid-upload")
        form = replace(form, boundary=uuid.uuid4().hex)
        head, tail = form.around_content()
        return head, tail, form.content_type


def make_upload(directory: Path, kind: str) -> Upload:
    name = f"killed-{kind}-{uuid.uuid4().hex[:6]}"
    # Incompressible padding makes the wheel big enough to be caught half-sent (the e2e limit is 2 MiB).
    padding = os.urandom(400_000).hex()
    return Upload(name, build_wheel(directory, name, "1.0", module_body=f"PADDING = {padding!r}\n"))


class Sender:
    """One upload over its own connection, sent in two halves so the test can act in between."""

    def __init__(self, server, upload: Upload) -> None:
        self.upload = upload
        self.head, self.tail, content_type = upload.body()
        self.connection = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=WAIT * 2)
        self.connection.putrequest("POST", "/legacy/")
        self.connection.putheader("Authorization", "Basic " + base64.b64encode(f"killer:{PASSWORD}".encode()).decode())
        self.connection.putheader("Content-Type", content_type)
        self.connection.putheader("Content-Length", str(len(self.head) + len(upload.data) + len(self.tail)))
        self.connection.endheaders()
        self.status: int | None = None
        self.error: str = ""

    @property
    def local_port(self) -> int:
        return self.connection.sock.getsockname()[1]

    def send_first_half(self) -> None:
        data = self.upload.data
        self.connection.send(self.head + data[: len(data) // 2])

    def send_the_rest_and_read(self) -> None:
        data = self.upload.data
        try:
            self.connection.send(data[len(data) // 2 :] + self.tail)
            response = self.connection.getresponse()
            self.status = response.status
            response.read()
        except OSError as error:  # the worker is gone: no answer at all
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.connection.close()


def post_whole(server, upload: Upload) -> tuple[int, str]:
    sender = Sender(server, upload)
    sender.send_first_half()
    data = upload.data
    sender.connection.send(data[len(data) // 2 :] + sender.tail)
    response = sender.connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    sender.connection.close()
    return response.status, text


# ---------------------------------------------------------------- finding and killing the worker


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _socket_inodes(server_port: int, client_port: int) -> set[str]:
    """Inodes of the server's end of the client's connection, from /proc/net/tcp (and tcp6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if int(local.rsplit(":", 1)[1], 16) == server_port and int(remote.rsplit(":", 1)[1], 16) == client_port:
                    inodes.add(inode)
    return inodes


def worker_serving(server, client_port: int) -> int:
    """The gunicorn worker holding the server end of the client's connection."""
    server_port = int(server.url.rsplit(":", 1)[1])
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        sockets = {f"socket:[{inode}]" for inode in _socket_inodes(server_port, client_port)}
        for pid in children_of(server.process.pid):
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        if os.readlink(fd) in sockets:
                            return pid
        time.sleep(0.05)
    pytest.fail(f"no gunicorn worker holds the connection from port {client_port}")


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + WAIT
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        # A zombie until the master reaps it; that is dead enough.
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
                return
        time.sleep(0.02)


def wait_for_workers(server, count: int = 2) -> None:
    """The master replaces a killed worker; wait until it has and the index answers."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if len(children_of(server.process.pid)) == count and server.get("/admin/login/").status == 200:
            return
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not get back to {count} workers:\n{server.log_tail()}")


# ---------------------------------------------------------------- what the index holds


STATE = """
import json
from packages_app.models import File, JournalEntry, Project
name, filename = json.loads(ARGS)
print(json.dumps(dict(
    serial=JournalEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0,
    projects=Project.objects.filter(name=name).count(),
    files=list(File.objects.filter(filename=filename).values_list("path", flat=True)),
    journal=list(JournalEntry.objects.filter(name=name).order_by("id").values_list("action", flat=True)),
)))
"""


def index_state(server, upload: Upload) -> dict:
    code = f"ARGS = {json.dumps(json.dumps([upload.name, upload.filename]))}\n" + STATE
    return json.loads(server.shell(code).strip().splitlines()[-1])


def server_tmpdir(server) -> Path:
    return Path(server.env["TMPDIR"])


def stored(server) -> list[str]:
    root = server.data_dir / "files"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def verify_storage(server, *args: str) -> tuple[int, str]:
    """Exit status and standard output of ``manage.py verify_storage`` in the server's environment."""
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_storage", *args],
        cwd=REPO_ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout


def assert_nothing_of_it(server, upload: Upload, before: dict) -> None:
    state = index_state(server, upload)
    assert state == {"serial": before["serial"], "projects": 0, "files": [], "journal": []}
    assert server.get(f"/simple/{upload.name}/").status == 404
    assert not [path for path in stored(server) if ".incoming-" in path], stored(server)


def assert_retry_succeeds(server, upload: Upload) -> None:
    status, text = post_whole(server, upload)
    assert status == 200, text
    assert text.strip().endswith(" created"), text
    state = index_state(server, upload)
    assert len(state["files"]) == 1
    assert state["journal"] == ["create", "add Owner killer", "new release", f"add py3 file {upload.filename}"]
    download = server.get(f"/packages/{state['files'][0]}")
    assert download.status == 200
    assert download.body == upload.data
    assert verify_storage(server, "--grace-minutes", "0")[0] == 0


# ---------------------------------------------------------------- holding the write lock


@contextlib.contextmanager
def write_lock_held(server) -> Iterator[None]:
    """Hold what every index write waits for: SQLite's write lock, or the journal's advisory lock."""
    url = server.env["DATABASE_URL"]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=WAIT)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.rollback()
            conn.close()
        return
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [JOURNAL_LOCK_KEY])
        try:
            yield
        finally:
            conn.rollback()


def wait_until_stored(server, upload: Upload) -> list[str]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = [path for path in stored(server) if upload.filename in path]
        if len(found) == 2 and not any(".incoming-" in path for path in found):
            return found
        time.sleep(0.05)
    pytest.fail(f"{upload.filename} was never stored:\n{server.log_tail()}")


# ---------------------------------------------------------------- the kills


def test_worker_killed_while_the_body_streams(index_server, tmp_path):
    server = index_server
    upload = make_upload(tmp_path, "streaming")
    before = index_state(server, upload)
    files_before = stored(server)
    tmp_before = set(server_tmpdir(server).iterdir())
    sender = Sender(server, upload)
    sender.send_first_half()
    worker = worker_serving(server, sender.local_port)
    time.sleep(0.3)  # the worker is reading the body into its temporary file
    kill(worker)
    sender.send_the_rest_and_read()
    assert sender.status is None, "the killed worker cannot have answered"
    wait_for_workers(server)

    assert_nothing_of_it(server, upload, before)
    assert stored(server) == files_before
    # What the kill does leave: the body received so far, in Django's temporary upload file in the
    # server's TMPDIR (a worker that dies cannot delete it). Outside storage, never served.
    left = sorted(set(server_tmpdir(server).iterdir()) - tmp_before)
    assert len(left) <= 1, left
    assert all(path.name.endswith(".upload.whl") for path in left), left
    code, out = verify_storage(server, "--grace-minutes", "0")
    assert code == 0, out
    assert_retry_succeeds(server, upload)


def test_worker_killed_after_storing_before_the_row_commits(index_server, tmp_path):
    server = index_server
    upload = make_upload(tmp_path, "stored")
    before = index_state(server, upload)
    sender = Sender(server, upload)
    reply = threading.Thread(target=sender.send_the_rest_and_read, daemon=True)
    with write_lock_held(server):
        sender.send_first_half()
        worker = worker_serving(server, sender.local_port)
        reply.start()
        orphans = wait_until_stored(server, upload)  # stored, now waiting for the lock
        kill(worker)
    reply.join(WAIT)
    assert sender.status is None, "the killed worker cannot have answered"
    wait_for_workers(server)

    assert_nothing_of_it(server, upload, before)
    for path in orphans:
        assert server.get(f"/packages/{path}").status == 404  # bytes without a row are never served
    # An upload in flight stores its bytes before its row: within the grace period they are not a problem...
    code, out = verify_storage(server)
    assert code == 0, out
    assert "Not counted: 2 stored file(s)" in out
    # ...past it they are reported, as exactly this upload's two files.
    code, out = verify_storage(server, "--grace-minutes", "0", "--json")
    assert code == 1
    assert sorted(problem["path"] for problem in json.loads(out)["problems"]) == orphans
    # The retry stores the same bytes at the same path and gives them their row.
    assert_retry_succeeds(server, upload)


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: a trigger holds the transaction open after its rows")
def test_worker_killed_inside_the_transaction_after_its_rows(index_server, tmp_path):
    import psycopg

    server = index_server
    upload = make_upload(tmp_path, "in-transaction")
    before = index_state(server, upload)
    url = server.env["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION pyidx_sleep() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER pyidx_sleep AFTER INSERT ON packages_app_journalentry FOR EACH ROW "
            "WHEN (NEW.filename <> '') EXECUTE FUNCTION pyidx_sleep()"
        )
        try:
            sender = Sender(server, upload)
            sender.send_first_half()
            worker = worker_serving(server, sender.local_port)
            reply = threading.Thread(target=sender.send_the_rest_and_read, daemon=True)
            reply.start()
            deadline = time.monotonic() + WAIT
            while not conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'"
            ).fetchone():
                assert time.monotonic() < deadline, "the upload never reached its file's journal entry"
                time.sleep(0.02)
            kill(worker)  # every row of the upload is written, none committed
            reply.join(WAIT)
        finally:
            conn.execute("DROP TRIGGER pyidx_sleep ON packages_app_journalentry")
            conn.execute("DROP FUNCTION pyidx_sleep()")
    assert sender.status is None
    wait_for_workers(server)
    # Uncommitted, so invisible now; the backend rolls back once its sleep ends and it finds its client gone.
    assert_nothing_of_it(server, upload, before)
    assert_retry_succeeds(server, upload)
