"""The load storm of ``benchmarks/load_storm.py`` (its docstring says what it does and checks):
the server, the plan, the upload and reader threads, the checks afterwards and the result.

Here so that the benchmark and its small run in the test suite (``tests/e2e/test_load_storm_small.py``,
``tests/e2e/test_worker_kill.py``) share it without importing each other.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import multiprocessing
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness import databases, servers, upload_form
from harness.dists import build_wheel
from harness.loopback import http_get
from harness.servers import REPO_ROOT, free_port, server_environment

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/pyindex_load"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
STARTUP_TIMEOUT = 60
STOP_TIMEOUT = 15
REQUEST_TIMEOUT = 60
SHARED_PROJECTS = 4
NEW_PROJECT_EVERY = 5  # every fifth upload of a client creates a project
REPEAT_EVERY = 10  # every tenth repeats the client's previous file
EVENTS_PAGE_SIZE = 500
READER_PAUSE = 0.005


class StormError(Exception):
    """The storm could not run (as opposed to the index failing it)."""


def log(message: str) -> None:
    print(f"[load-storm] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- database and server


def _check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname
    if host not in LOOPBACK:
        raise StormError(f"only a database on 127.0.0.1 is used, not {host}")


@contextlib.contextmanager
def throwaway_postgres(base_url: str, suffix: str = "") -> Iterator[str]:
    """A new, empty database named after ``base_url``'s (``<name>_<suffix><random>``), dropped at the end."""
    _check_loopback(base_url)
    base_name = urllib.parse.urlsplit(base_url).path.lstrip("/") or "pyindex_load"
    name = f"{base_name}_{suffix}{secrets.token_hex(4)}"
    with databases.throwaway_postgres(base_url, name, connect_timeout=5) as url:
        yield url


def postgres_reachable(base_url: str) -> str | None:
    """None when a throw-away database can be made next to ``base_url``; else why not."""
    try:
        import psycopg

        _check_loopback(base_url)
        maintenance = urllib.parse.urlsplit(base_url)._replace(path="/postgres").geturl()
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=3):
            return None
    except Exception as error:  # noqa: BLE001 - the reason is the answer
        return f"{type(error).__name__}: {error}".strip()


class StormServer(servers.ManagedIndex):
    """The index with a chosen number of workers, and no pytest in the way."""

    workers: int = 2

    def start(self) -> None:
        bind = self.url.removeprefix("http://")
        command = servers.gunicorn_command(bind, "--workers", str(self.workers), "--no-control-socket")
        self.process = servers.start_in_session(command, cwd=REPO_ROOT, env=self.env, log_path=self.log_path)
        failure = servers.wait_until_answering(
            self.process, lambda: http_get(f"{self.url}/admin/login/", timeout=2).status == 200, STARTUP_TIMEOUT
        )
        if failure is not None:
            raise StormError(f"gunicorn {failure}:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM to the master, then SIGKILL to its process group (the group id is the master's pid)."""
        if self.process is not None:
            servers.stop_group(self.process, STOP_TIMEOUT)
        self.process = None


@contextlib.contextmanager
def storm_server(base: Path, database: str, postgres_url: str, workers: int) -> Iterator[StormServer]:
    data_dir = base / "data"
    server_tmp = base / "server-tmp"
    server_tmp.mkdir(parents=True)
    with contextlib.ExitStack() as stack:
        if database == "postgres":
            url = stack.enter_context(throwaway_postgres(postgres_url, "storm_"))
        else:
            url = f"sqlite:///{data_dir / 'index.sqlite3'}"
        env = server_environment(data_dir, url)
        # Django's temporary upload files go to the throw-away folder, not the machine's /tmp.
        env["TMPDIR"] = str(server_tmp)
        server = StormServer(
            url=f"http://127.0.0.1:{free_port()}", env=env, data_dir=data_dir, log_path=base / "gunicorn.log"
        )
        server.workers = workers
        server.prepare()
        try:
            server.start()
            yield server
        finally:
            server.stop()


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    filename: str
    data: bytes
    kind: str  # shared, new or repeat

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def form(self) -> tuple[bytes, str]:
        """The multipart body and content type twine sends for this wheel."""
        form = upload_form.twine_form(self.data, self.filename, self.name, self.version, summary="A load storm package")
        return form.body(), form.content_type


def shared_project(run: str, k: int) -> str:
    return f"storm-{run}-shared-{k}"


def make_plan(directory: Path, run: str, clients: int, uploads: int) -> list[list[Wheel]]:
    """Each client's uploads, in order; the wheels are built up front, so the storm measures the index."""
    plan = []
    for client in range(clients):
        wheels: list[Wheel] = []
        for number in range(uploads):
            if number % REPEAT_EVERY == REPEAT_EVERY - 1 and wheels:
                previous = wheels[-1]
                wheels.append(Wheel(previous.name, previous.version, previous.filename, previous.data, "repeat"))
                continue
            if number % NEW_PROJECT_EVERY == NEW_PROJECT_EVERY - 1:
                name, version, kind = f"storm-{run}-c{client}-n{number}", "1.0", "new"
            else:
                name, version, kind = shared_project(run, number % SHARED_PROJECTS), f"{client}.{number}", "shared"
            path = build_wheel(directory / f"c{client}" / str(number), name, version, module_body=f"N = {number}\n")
            wheels.append(Wheel(name, version, path.name, path.read_bytes(), kind))
        plan.append(wheels)
    return plan


def make_tokens(server: StormServer, count: int) -> list[str]:
    """One user, one unscoped API token per client (tokens are cheap to check; passwords are not)."""
    output = server.shell(
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        "from packages_app.services import tokens\n"
        "user = get_user_model().objects.create_user('storm', password=None)\n"
        f"print(json.dumps([tokens.create_token(user, name=f'storm-{{i}}')[1] for i in range({count})]))\n"
    )
    return json.loads(output.strip().splitlines()[-1])


def basic(token: str) -> str:
    return "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()


# ---------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Answer:
    kind: str
    target: str
    status: int | None  # None: no HTTP answer at all
    text: str
    started: float
    seconds: float
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.kind} {self.target}: {self.status} {self.text.strip()[:200]}"


def request(
    host: str, method: str, path: str, kind: str, target: str, *, body: bytes = b"", headers: dict | None = None
) -> Answer:
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        status, answer_headers = response.status, {k.lower(): v for k, v in response.getheaders()}
    except OSError as error:  # refused, reset, timed out: an answer of its own, never lost
        status, text, answer_headers = None, f"{type(error).__name__}: {error}", {}
    finally:
        connection.close()
    return Answer(kind, target, status, text, started, time.monotonic() - started, answer_headers)


# ---------------------------------------------------------------- clients


class Uploader(threading.Thread):
    def __init__(self, host: str, authorization: str, wheels: list[Wheel], deadline: float, start: threading.Barrier):
        super().__init__(daemon=True)
        self.host, self.authorization, self.wheels = host, authorization, wheels
        self.deadline, self.start_barrier = deadline, start
        self.answers: list[tuple[Wheel, Answer]] = []
        self.accepted: dict[str, float] = {}  # project name -> when its first upload was answered 200

    def run(self) -> None:
        self.start_barrier.wait()
        for wheel in self.wheels:
            if time.monotonic() > self.deadline:
                return
            body, content_type = wheel.form()
            headers = {"Content-Type": content_type, "Authorization": self.authorization}
            answer = request(self.host, "POST", "/legacy/", "upload", wheel.filename, body=body, headers=headers)
            self.answers.append((wheel, answer))
            if answer.status == 200:
                self.accepted.setdefault(wheel.name, answer.started + answer.seconds)


class Reader(threading.Thread):
    """Simple pages of the shared projects and the events feed, until told to stop."""

    def __init__(self, host: str, authorization: str, projects: list[str], since: int, seed: int):
        super().__init__(daemon=True)
        self.host, self.authorization, self.projects = host, authorization, projects
        self.stop = threading.Event()
        self.random = random.Random(seed)  # noqa: S311 - which page to read next, not a secret
        self.first = self.last = since
        self.seen: list[int] = []
        self.answers: list[Answer] = []
        self.problems: list[str] = []
        self.page_serials: dict[str, int] = {}

    def run(self) -> None:
        headers = {"Authorization": self.authorization}
        while True:
            stopping = self.stop.is_set()  # read before polling: the last poll sees everything
            self._poll_events(headers)
            if stopping:
                return
            project = self.random.choice(self.projects)
            self._read_page(project, headers)
            time.sleep(READER_PAUSE)

    def _read_page(self, project: str, headers: dict) -> None:
        path = f"/simple/{project}/"
        answer = request(self.host, "GET", path, "simple page", project, headers=headers)
        self.answers.append(answer)
        if answer.status != 200:
            return
        serial = int(answer.headers.get("x-pypi-last-serial", "-1"))
        if serial < self.page_serials.get(project, -1):
            self.problems.append(f"{path}: serial {serial} after {self.page_serials[project]}")
        self.page_serials[project] = max(serial, self.page_serials.get(project, -1))

    def _poll_events(self, headers: dict) -> None:
        while True:
            path = f"/api/v1/events/?since={self.last}&page_size={EVENTS_PAGE_SIZE}"
            answer = request(self.host, "GET", path, "events feed", str(self.last), headers=headers)
            self.answers.append(answer)
            if answer.status != 200:
                return
            page = json.loads(answer.text)
            serials = [event["serial"] for event in page["results"]]
            if serials and (serials[0] <= self.last or serials != sorted(set(serials))):
                self.problems.append(f"events after {self.last} not strictly increasing: {serials[:20]}")
            if serials:
                self.seen += serials
                self.last = max(self.last, serials[-1])
            if not page["next"]:
                return


# ---------------------------------------------------------------- after the storm

SNAPSHOT = (
    """
import json
from django.db.models import Max
from packages_app.models import File, JournalEntry, Project, Role
"""
    + servers.STORED_DIGEST_CODE
    + """
files = [
    dict(filename=f.filename, sha256=f.sha256_digest, size=f.size, path=f.path,
         project=f.release.project.normalized_name, stored=stored(f.path))
    for f in File.objects.select_related("release__project").order_by("id")
]
projects = [
    dict(name=p.name, normalized=p.normalized_name, last_serial=p.last_serial,
         newest=JournalEntry.objects.filter(name=p.name).aggregate(m=Max("id"))["m"],
         owners=Role.objects.filter(project=p, role_name="Owner").count())
    for p in Project.objects.all()
]
journal = list(JournalEntry.objects.order_by("id").values_list("id", "name", "action", "filename"))
print(json.dumps(dict(files=files, projects=projects, journal=journal)))
"""
)


def verify_storage(server: StormServer) -> tuple[int, str]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "verify_storage", "--grace-minutes", "0"],
        cwd=REPO_ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, (result.stdout + result.stderr).strip()


@dataclass
class Latency:
    count: int
    errors: int
    per_second: float
    p50_ms: float
    p99_ms: float


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass
class StormResult:
    database: str
    workers: int
    clients: int
    uploads_per_client: int
    readers: int
    seconds: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    planned: int
    accepted: int
    created: int
    latency: dict[str, Latency]
    checks: list[tuple[str, list[str]]]  # (what was checked, what failed it)

    @property
    def problems(self) -> list[str]:
        return [f"{what}: {failure}" for what, failures in self.checks for failure in failures]

    @property
    def ok(self) -> bool:
        return not self.problems

    def markdown(self) -> str:
        lines = [
            f"{self.clients} upload clients x {self.uploads_per_client} uploads and {self.readers} readers, "
            f"{self.database}, gunicorn with {self.workers} workers on {os.cpu_count()} cores; "
            f"load average {self.load_before[0]:.1f} before, {self.load_after[0]:.1f} after. "
            f"{self.planned} uploads planned, {self.accepted} answered 200 ({self.created} created a file) "
            f"in {self.seconds:.1f} s.",
            "",
            "| requests | count | unexpected answers | per second | p50 (ms) | p99 (ms) |",
            "|---|---|---|---|---|---|",
        ]
        for kind, row in self.latency.items():
            lines.append(
                f"| {kind} | {row.count} | {row.errors} | {row.per_second:.1f} | {row.p50_ms:.0f} | {row.p99_ms:.0f} |"
            )
        lines += ["", "| check | lost or out of order |", "|---|---|"]
        for what, failures in self.checks:
            shown = "nothing" if not failures else "; ".join(failures[:5]) + (" ..." if len(failures) > 5 else "")
            lines.append(f"| {what} | {shown} |")
        return "\n".join(lines)


def _latency(answers: list[Answer], seconds: float, unexpected: int) -> Latency:
    times = [answer.seconds for answer in answers]
    return Latency(
        count=len(answers),
        errors=unexpected,
        per_second=len(answers) / seconds if seconds else 0.0,
        p50_ms=percentile(times, 50) * 1000,
        p99_ms=percentile(times, 99) * 1000,
    )


def check_storm(
    plan: list[list[Wheel]],
    uploaders: list[Uploader],
    readers: list[Reader],
    snapshot: dict,
    verified: tuple[int, str],
    before: int,
) -> list[tuple[str, list[str]]]:
    checks: list[tuple[str, list[str]]] = []
    uploads = [(wheel, answer) for uploader in uploaders for wheel, answer in uploader.answers]
    planned = sum(len(wheels) for wheels in plan)
    unanswered = [] if len(uploads) == planned else [f"{planned - len(uploads)} uploads never sent (--timeout)"]
    checks.append(("every planned upload was sent", unanswered))
    checks.append(("every upload answered 200", [str(answer) for _, answer in uploads if answer.status != 200]))

    first_accepted: dict[str, float] = {}
    for uploader in uploaders:
        for name, moment in uploader.accepted.items():
            first_accepted[name] = min(moment, first_accepted.get(name, moment))
    read_failures = []
    for reader in readers:
        for answer in reader.answers:
            if answer.status == 200:
                continue
            # 404 is right for a shared project no upload has created yet, wrong once one was answered 200.
            known = first_accepted.get(answer.target)
            if answer.status == 404 and answer.kind == "simple page" and (known is None or answer.started < known):
                continue
            read_failures.append(str(answer))
    checks.append(("every read answered as expected", read_failures))

    rows = snapshot["files"]
    by_name = {row["filename"]: row for row in rows}
    lost = []
    for wheel, answer in uploads:
        if answer.status != 200:
            continue
        row = by_name.get(wheel.filename)
        if row is None:
            lost.append(f"{wheel.filename}: accepted, no row")
        elif row["sha256"] != wheel.sha256 or row["size"] != len(wheel.data):
            lost.append(f"{wheel.filename}: row says {row['sha256']} {row['size']}")
        elif row["stored"] != [wheel.sha256, len(wheel.data)]:
            lost.append(f"{wheel.filename}: stored bytes are {row['stored']}")
    checks.append(("every accepted file stored with its sha256", lost))

    duplicates = []
    for key in ("filename", "sha256", "path"):
        duplicates += [f"{key} {value} x{n}" for value, n in Counter(row[key] for row in rows).items() if n > 1]
    added = Counter(entry[3] for entry in snapshot["journal"] if entry[0] > before and entry[2].startswith("add "))
    duplicates += [f"{name}: {n} 'add file' journal entries" for name, n in added.items() if name and n != 1]
    accepted_names = {wheel.filename for wheel, answer in uploads if answer.status == 200}
    duplicates += [f"{name}: no journal entry" for name in accepted_names if added[name] == 0]
    unplanned = {row["filename"] for row in rows} - {wheel.filename for wheels in plan for wheel in wheels}
    duplicates += [f"{name}: a file no client sent" for name in sorted(unplanned)]
    owners = [f"{p['name']}: {p['owners']} Owners" for p in snapshot["projects"] if p["owners"] != 1]
    checks.append(("no duplicate files, journal entries or owners", duplicates + owners))

    serial_failures = [
        f"{p['name']}: last_serial {p['last_serial']}, newest entry {p['newest']}"
        for p in snapshot["projects"]
        if p["last_serial"] != p["newest"]
    ]
    ids = [entry[0] for entry in snapshot["journal"]]
    if ids != sorted(set(ids)):
        serial_failures.append("journal ids not strictly increasing")
    checks.append(("serials strictly increasing, last_serial up to date", serial_failures))

    visible = sorted(entry[0] for entry in snapshot["journal"] if entry[1])  # the feed skips token entries
    order_failures = []
    for number, reader in enumerate(readers):
        order_failures += [f"reader {number}: {problem}" for problem in reader.problems]
        expected = {serial for serial in visible if reader.first < serial <= reader.last}
        missed = sorted(expected - set(reader.seen))
        if missed:
            order_failures.append(f"reader {number} never saw {missed[:10]} (visible only after a higher serial)")
        if len(reader.seen) != len(set(reader.seen)):
            order_failures.append(f"reader {number} was shown a serial twice")
    checks.append(("readers never saw a serial out of order", order_failures))

    code, output = verified
    checks.append(("verify_storage --grace-minutes 0", [] if code == 0 else [output[-2000:]]))
    return checks


# ---------------------------------------------------------------- the run


@dataclass
class Config:
    clients: int = 8
    uploads: int = 100
    readers: int = 8
    database: str = "postgres"
    postgres_url: str = DEFAULT_POSTGRES_URL
    workers: int = field(default_factory=lambda: 2 * multiprocessing.cpu_count())
    timeout: float = 600.0
    tmpdir: str | None = None


def run_storm(config: Config) -> StormResult:
    started = time.monotonic()
    deadline = started + config.timeout
    base = Path(tempfile.mkdtemp(prefix="pyidx-storm-", dir=config.tmpdir))
    try:
        run = secrets.token_hex(3)
        log(f"building {config.clients * config.uploads} wheels in {base}")
        plan = make_plan(base / "wheels", run, config.clients, config.uploads)
        log(f"starting gunicorn ({config.workers} workers) on {config.database}")
        with storm_server(base / "server", config.database, config.postgres_url, config.workers) as server:
            tokens = make_tokens(server, config.clients + 1)
            before = json.loads(server.shell(JOURNAL_MAX).strip().splitlines()[-1])
            host = server.url.removeprefix("http://")
            barrier = threading.Barrier(config.clients)
            uploaders = [Uploader(host, basic(tokens[i]), wheels, deadline, barrier) for i, wheels in enumerate(plan)]
            shared = [shared_project(run, k) for k in range(SHARED_PROJECTS)]
            readers = [Reader(host, basic(tokens[-1]), shared, before, seed=i) for i in range(config.readers)]
            load_before = os.getloadavg()
            log(f"storm: {config.clients} x {config.uploads} uploads, {config.readers} readers")
            storm_started = time.monotonic()
            for thread in [*readers, *uploaders]:
                thread.start()
            for uploader in uploaders:
                uploader.join(max(1.0, deadline - time.monotonic()) + REQUEST_TIMEOUT)
            storm_seconds = time.monotonic() - storm_started
            for reader in readers:
                reader.stop.set()
            for reader in readers:
                reader.join(REQUEST_TIMEOUT * 2)
            load_after = os.getloadavg()
            if any(thread.is_alive() for thread in [*readers, *uploaders]):
                raise StormError("a client thread did not finish")
            log("storm over; checking the database and the storage")
            snapshot = json.loads(server.shell(SNAPSHOT).strip().splitlines()[-1])
            verified = verify_storage(server)
            checks = check_storm(plan, uploaders, readers, snapshot, verified, before)
            server_errors = [
                line
                for line in server.log_path.read_text(errors="replace").splitlines()
                if any(marker in line for marker in ("Traceback", "[ERROR]", "[CRITICAL]", "WORKER TIMEOUT"))
            ]
            checks.append(("the server logged no error", server_errors))
        uploads = [answer for uploader in uploaders for _, answer in uploader.answers]
        reads = [answer for reader in readers for answer in reader.answers]
        unexpected_reads = {kind: 0 for kind in ("simple page", "events feed")}
        for answer in reads:
            if answer.status not in (200, 404):
                unexpected_reads[answer.kind] += 1
        latency = {
            "upload": _latency(uploads, storm_seconds, sum(1 for a in uploads if a.status != 200)),
            "simple page": _latency(
                [a for a in reads if a.kind == "simple page"], storm_seconds, unexpected_reads["simple page"]
            ),
            "events feed": _latency(
                [a for a in reads if a.kind == "events feed"], storm_seconds, unexpected_reads["events feed"]
            ),
        }
        return StormResult(
            database=config.database,
            workers=config.workers,
            clients=config.clients,
            uploads_per_client=config.uploads,
            readers=config.readers,
            seconds=storm_seconds,
            load_before=load_before,
            load_after=load_after,
            planned=sum(len(wheels) for wheels in plan),
            accepted=sum(1 for a in uploads if a.status == 200),
            created=sum(1 for a in uploads if a.status == 200 and a.text.strip().endswith(" created")),
            latency=latency,
            checks=checks,
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


JOURNAL_MAX = """
from packages_app.models import JournalEntry
print(JournalEntry.objects.last_serial())
"""
