"""Parallel uploads against the real gunicorn: no race may leave the index inconsistent.

Bursts of clients post the legacy upload form at once (raw HTTP, the form twine
sends): a brand-new project from many clients, one identical file many times,
one filename with different bytes, and many wheels of one new release. Every
scenario runs a few rounds, then the database and the storage folder are
checked as a whole: the expected answers only, one project, no duplicate
files, stored bytes that match their rows, no stray files, and journal serials
that are contiguous and match each project's ``last_serial``.

The bursts run on both databases; SQLite (one writer at a time) runs fewer
rounds. The journal reader that watches serials become visible during the
bursts needs PostgreSQL: only there can two writers commit out of serial order.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness import servers, upload_form
from harness.dists import build_wheel, normalized_name

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
THREADS = 8
CLASHING_CLIENTS = 6
# Different platform tags of one version: distinct filenames, one release.
TAGS = (
    "py3-none-any",
    "py2.py3-none-any",
    "cp311-cp311-linux_x86_64",
    "cp312-cp312-manylinux_2_17_x86_64",
    "cp311-abi3-macosx_11_0_arm64",
    "py311-none-any",
)
# SQLite queues writers on one lock, so fewer rounds show what it can show.
ROUNDS = 10 if ON_POSTGRES else 4
ROUNDS_BUDGET = 25.0  # seconds: no new round starts once the bursts took this long
REQUEST_TIMEOUT = 60
BARRIER_TIMEOUT = 30
READER_LIMIT = 120.0  # seconds: the reader gives up even if never told to stop
READER_PAUSE = 0.002
PASSWORD = "e2e concurrency battery staple"
ALREADY_EXISTS = "File already exists"

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- uploading


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str
    version: str
    tag: str
    data: bytes

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def form(self) -> tuple[bytes, str]:
        """The multipart body and content type twine would send for this wheel."""
        form = upload_form.twine_form(
            self.data,
            self.filename,
            self.name,
            self.version,
            pyversion=self.tag.split("-")[0],
            md5_digest=hashlib.md5(self.data, usedforsecurity=False).hexdigest(),
        )
        return form.body(), form.content_type


def make_wheel(directory: Path, name: str, version: str, *, tag: str = "py3-none-any", body: str = "") -> Wheel:
    path = build_wheel(directory, name, version, tag=tag, module_body=body)
    return Wheel(path=path, name=name, version=version, tag=tag, data=path.read_bytes())


@dataclass(frozen=True)
class Reply:
    filename: str
    sha256: str
    status: int | None  # None: no HTTP answer at all
    text: str

    def __str__(self) -> str:
        return f"{self.status} {self.filename}: {self.text.strip()[:200]}"


def post(url: str, authorization: str, wheel: Wheel) -> Reply:
    body, content_type = wheel.form()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", content_type)
    request.add_header("Authorization", authorization)
    try:
        with _opener.open(request, timeout=REQUEST_TIMEOUT) as response:
            status, text = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        with error:
            status, text = error.code, error.read().decode("utf-8", "replace")
    except OSError as error:  # refused, reset or timed out: report it, do not lose the burst
        status, text = None, f"{type(error).__name__}: {error}"
    return Reply(filename=wheel.filename, sha256=wheel.sha256, status=status, text=text)


def burst(url: str, authorization: str, wheels: list[Wheel]) -> list[Reply]:
    """Post every wheel from its own thread, all released at the same moment."""
    assert len(wheels) <= THREADS
    start = threading.Barrier(len(wheels), timeout=BARRIER_TIMEOUT)

    def one(wheel: Wheel) -> Reply:
        start.wait()
        return post(url, authorization, wheel)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one, wheels, timeout=BARRIER_TIMEOUT + REQUEST_TIMEOUT + 10))


# ---------------------------------------------------------------- journal reader


class JournalReader(threading.Thread):
    """Polls the journal on its own connection, as a mirror would, during the bursts.

    Every batch of new ids must continue from the last id seen without a hole:
    a hole means serial N+1 became visible before N (or N never will).
    """

    def __init__(self, database_url: str) -> None:
        super().__init__(name="journal-reader", daemon=True)
        self.database_url = database_url
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.first_seen = 0
        self.last_seen = 0
        self.polls = 0
        self.batches = 0  # polls that found new entries
        self.holes: list[tuple[int, list[int]]] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                self.first_seen = self.last_seen = self._max_id(conn)
                self.ready.set()
                deadline = time.monotonic() + READER_LIMIT
                while time.monotonic() < deadline:
                    stopping = self.stop.is_set()  # read before polling: the last poll sees everything
                    self._poll(conn)
                    if stopping:
                        return
                    time.sleep(READER_PAUSE)
                self.error = TimeoutError(f"the journal reader was not stopped within {READER_LIMIT}s")
        except BaseException as error:  # noqa: BLE001 - handed to the test, which fails with it
            self.error = error
        finally:
            self.ready.set()

    @staticmethod
    def _max_id(conn) -> int:
        return conn.execute("SELECT coalesce(max(id), 0) FROM packages_app_journalentry").fetchone()[0]

    def _poll(self, conn) -> None:
        self.polls += 1
        if self._max_id(conn) <= self.last_seen:
            return
        rows = conn.execute(
            "SELECT id FROM packages_app_journalentry WHERE id > %s ORDER BY id", [self.last_seen]
        ).fetchall()
        ids = [row[0] for row in rows]
        if not ids:
            return
        self.batches += 1
        if ids != list(range(self.last_seen + 1, self.last_seen + 1 + len(ids))):
            self.holes.append((self.last_seen, ids))
        self.last_seen = ids[-1]


# ---------------------------------------------------------------- the bursts


@dataclass
class Scenario:
    kind: str
    project: str
    wheels: list[Wheel]
    replies: list[Reply] = field(default_factory=list)


@dataclass
class Bursts:
    username: str
    before: int  # the newest serial before the first burst
    scenarios: list[Scenario]
    snapshot: dict
    log: str  # what gunicorn logged during the bursts
    reader: JournalReader | None
    seconds: float

    def of(self, kind: str) -> list[Scenario]:
        return [scenario for scenario in self.scenarios if scenario.kind == kind]


def make_round(directory: Path) -> list[Scenario]:
    new = unique("conc-new")
    same = unique("conc-same")
    clash = unique("conc-clash")
    tags = unique("conc-tags")
    identical = make_wheel(directory / "same", same, "1.0")
    # One filename, different bytes: every client's module says who built it.
    clashing = [
        make_wheel(directory / f"clash{i}", clash, "1.0", body=f"CLIENT = {i}\n") for i in range(CLASHING_CLIENTS)
    ]
    return [
        Scenario("new_project", new, [make_wheel(directory / "new", new, f"{i}.0") for i in range(1, THREADS + 1)]),
        Scenario("identical", same, [identical] * THREADS),
        Scenario("clash", clash, clashing),
        Scenario("tags", tags, [make_wheel(directory / "tags", tags, "1.0", tag=tag) for tag in TAGS]),
    ]


def make_account(index_server) -> tuple[str, str, int]:
    """A user, its unscoped API token, and the newest serial once both exist."""
    username = unique("conc-user")
    output = index_server.shell(
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        "from packages_app.models import JournalEntry\n"
        "from packages_app.services import tokens\n"
        f"user = get_user_model().objects.create_user({username!r}, password={PASSWORD!r})\n"
        "_, token = tokens.create_token(user, name='concurrency')\n"
        "print(json.dumps({'token': token, 'serial': JournalEntry.objects.last_serial()}))\n"
    )
    answer = json.loads(output.strip().splitlines()[-1])
    return username, answer["token"], answer["serial"]


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


SNAPSHOT = (
    """
import json
from django.db.models import Max
from packages_app.models import File, JournalEntry, Project, Role

names, before = json.loads(ARGS)
"""
    + servers.STORED_DIGEST_CODE
    + """
files = [
    dict(
        filename=f.filename, sha256=f.sha256_digest, size=f.size, path=f.path, packagetype=f.packagetype,
        metadata_sha256=f.metadata_sha256, project=f.release.project.normalized_name, version=f.release.version,
        stored=stored(f.path), stored_metadata=stored(f.path + ".metadata"),
    )
    for f in File.objects.select_related("release__project").order_by("id")
]
projects = {}
for name in names:
    rows = list(Project.objects.filter(normalized_name=name))
    projects[name] = [
        dict(
            name=p.name, last_serial=p.last_serial,
            releases=sorted(p.releases.values_list("version", flat=True)),
            roles=sorted(Role.objects.filter(project=p).values_list("user__username", "role_name")),
            journal_max=JournalEntry.objects.filter(name=p.name).aggregate(m=Max("id"))["m"],
        )
        for p in rows
    ]
journal = list(JournalEntry.objects.filter(id__gt=before).order_by("id").values_list("id", "name", "action"))
print(json.dumps(dict(files=files, projects=projects, journal=journal)))
"""
)


def take_snapshot(index_server, names: list[str], before: int) -> dict:
    code = f"ARGS = {json.dumps([names, before])!r}\n" + SNAPSHOT
    return json.loads(index_server.shell(code).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def bursts(index_server, tmp_path_factory) -> Bursts:
    directory = tmp_path_factory.mktemp("concurrency")
    username, token, before = make_account(index_server)
    authorization = basic("__token__", token)
    url = index_server.url + "/legacy/"
    log_start = index_server.log_path.stat().st_size
    reader = None
    if ON_POSTGRES:
        reader = JournalReader(index_server.env["DATABASE_URL"])
        reader.start()
        assert reader.ready.wait(30), "the journal reader did not connect"
    scenarios: list[Scenario] = []
    started = time.monotonic()
    try:
        for number in range(ROUNDS):
            if number and time.monotonic() - started > ROUNDS_BUDGET:
                break
            for scenario in make_round(directory / f"round{number}"):
                # One burst per round signs in with the password: a slower request widens the race window.
                signed = basic(username, PASSWORD) if scenario.kind == "clash" and number == 0 else authorization
                scenario.replies = burst(url, signed, scenario.wheels)
                scenarios.append(scenario)
    finally:
        seconds = time.monotonic() - started
        if reader is not None:
            reader.stop.set()
            reader.join(READER_LIMIT + 10)
    with open(index_server.log_path, "rb") as log:
        log.seek(log_start)
        logged = log.read().decode("utf-8", "replace")
    names = sorted({normalized_name(scenario.project) for scenario in scenarios})
    return Bursts(
        username=username,
        before=before,
        scenarios=scenarios,
        snapshot=take_snapshot(index_server, names, before),
        log=logged,
        reader=reader,
        seconds=seconds,
    )


def replies_text(replies: list[Reply]) -> str:
    return "\n".join(str(reply) for reply in replies)


def project_files(bursts: Bursts, project: str) -> list[dict]:
    return [row for row in bursts.snapshot["files"] if row["project"] == normalized_name(project)]


def the_project(bursts: Bursts, project: str) -> dict:
    rows = bursts.snapshot["projects"][normalized_name(project)]
    assert len(rows) == 1, f"{project}: {len(rows)} project rows"
    return rows[0]


# ---------------------------------------------------------------- scenarios


def test_many_clients_create_one_new_project(bursts):
    for scenario in bursts.of("new_project"):
        assert [reply.status for reply in scenario.replies] == [200] * THREADS, replies_text(scenario.replies)
        project = the_project(bursts, scenario.project)
        assert project["roles"] == [[bursts.username, "Owner"]]
        assert project["releases"] == sorted(wheel.version for wheel in scenario.wheels)
        files = project_files(bursts, scenario.project)
        assert sorted((row["filename"], row["sha256"]) for row in files) == sorted(
            (wheel.filename, wheel.sha256) for wheel in scenario.wheels
        )


def test_identical_file_at_once_is_stored_once(bursts):
    for scenario in bursts.of("identical"):
        wheel = scenario.wheels[0]
        assert [reply.status for reply in scenario.replies] == [200] * THREADS, replies_text(scenario.replies)
        created = [reply for reply in scenario.replies if reply.text.strip().endswith(" created")]
        assert len(created) == 1, replies_text(scenario.replies)
        project = the_project(bursts, scenario.project)
        assert project["roles"] == [[bursts.username, "Owner"]]
        assert project["releases"] == ["1.0"]
        files = project_files(bursts, scenario.project)
        assert [(row["filename"], row["sha256"]) for row in files] == [(wheel.filename, wheel.sha256)]


def test_same_name_different_bytes_has_one_winner(bursts):
    for scenario in bursts.of("clash"):
        winners = [reply for reply in scenario.replies if reply.status == 200]
        losers = [reply for reply in scenario.replies if reply.status != 200]
        assert len(winners) == 1, replies_text(scenario.replies)
        for reply in losers:
            assert reply.status == 400, replies_text(scenario.replies)
            assert reply.text.startswith(ALREADY_EXISTS), replies_text(scenario.replies)
        files = project_files(bursts, scenario.project)
        assert [(row["filename"], row["sha256"]) for row in files] == [(winners[0].filename, winners[0].sha256)]
        assert the_project(bursts, scenario.project)["releases"] == ["1.0"]


def test_wheels_of_one_new_release_at_once(bursts):
    for scenario in bursts.of("tags"):
        assert [reply.status for reply in scenario.replies] == [200] * len(TAGS), replies_text(scenario.replies)
        project = the_project(bursts, scenario.project)
        assert project["releases"] == ["1.0"]
        assert project["roles"] == [[bursts.username, "Owner"]]
        files = project_files(bursts, scenario.project)
        assert sorted(row["filename"] for row in files) == sorted(wheel.filename for wheel in scenario.wheels)


def test_server_logged_no_error_during_the_bursts(bursts):
    assert bursts.scenarios, "no burst ran"
    markers = ("Traceback", " ERROR ", " CRITICAL ", "[ERROR]", "[CRITICAL]", "WORKER TIMEOUT")
    problems = [line for line in bursts.log.splitlines() if any(marker in line for marker in markers)]
    assert not problems, bursts.log[-5000:]
    every = [reply for scenario in bursts.scenarios for reply in scenario.replies]
    unexpected = [reply for reply in every if reply.status not in (200, 400)]
    assert not unexpected, replies_text(unexpected)


# ---------------------------------------------------------------- the index as a whole


def test_no_duplicate_files_and_stored_bytes_match_their_rows(bursts):
    files = bursts.snapshot["files"]
    for key in ("filename", "sha256", "path"):
        duplicates = [value for value, count in Counter(row[key] for row in files).items() if count > 1]
        assert not duplicates, f"duplicate {key}: {duplicates}"
    for row in files:
        assert row["stored"] == [row["sha256"], row["size"]], row
        if row["packagetype"] == "bdist_wheel":
            assert row["metadata_sha256"], row
            assert row["stored_metadata"] is not None, f"{row['filename']}: no .metadata file"
            assert row["stored_metadata"][0] == row["metadata_sha256"], row
        else:
            assert row["stored_metadata"] is None or row["metadata_sha256"], row


def test_storage_folder_holds_only_the_rows_files(bursts, index_server):
    expected = set()
    for row in bursts.snapshot["files"]:
        expected.add(row["path"])
        if row["metadata_sha256"]:
            expected.add(row["path"] + ".metadata")
    listing = "import json; from packages_app.storage import stored_paths; print(json.dumps(list(stored_paths())))"
    found = set(json.loads(index_server.shell(listing)))
    assert sorted(found - expected) == [], "stray files in storage"
    local_root = index_server.data_dir / "files"  # on local storage, unfinished writes are files too
    assert [path.name for path in local_root.rglob(".incoming-*")] == [], "temporary files left in storage"
    assert sorted(expected - found) == [], "rows whose files are missing from storage"


def test_journal_serials_are_contiguous_and_match_last_serial(bursts):
    journal = bursts.snapshot["journal"]
    ids = [entry[0] for entry in journal]
    assert ids == list(range(bursts.before + 1, bursts.before + 1 + len(ids))), f"gaps after {bursts.before}: {ids}"
    display = {scenario.project for scenario in bursts.scenarios}
    strangers = [entry for entry in journal if entry[1] not in display]
    assert not strangers, f"entries the bursts did not write: {strangers}"
    per_project = Counter(entry[1] for entry in journal)
    for scenario in bursts.scenarios:
        project = the_project(bursts, scenario.project)
        files = project_files(bursts, scenario.project)
        # create, add Owner, one per release, one per file: nothing for refused or repeated uploads.
        expected = 2 + len(project["releases"]) + len(files)
        assert per_project[scenario.project] == expected, [entry for entry in journal if entry[1] == scenario.project]
        assert project["last_serial"] == project["journal_max"], project


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs DATABASE_URL=postgres://...: SQLite runs one writer at a time, so serials cannot "
    "become visible out of order there (the contiguity of the journal is still checked on SQLite)",
)
def test_journal_reader_never_sees_a_serial_before_the_one_below_it(bursts):
    reader = bursts.reader
    assert reader is not None
    assert not reader.is_alive(), "the journal reader did not stop"
    assert reader.error is None, repr(reader.error)
    assert reader.holes == [], f"serials became visible out of order (last seen, batch read): {reader.holes}"
    assert reader.first_seen == bursts.before
    assert reader.last_seen == bursts.before + len(bursts.snapshot["journal"])
    # Not vacuous: the reader saw the journal grow many times while the bursts ran.
    assert reader.batches >= len(bursts.scenarios) // 2, (reader.polls, reader.batches)
