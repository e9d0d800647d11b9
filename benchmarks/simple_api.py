"""Speed of the simple API on a PyPI-sized project, with pypiserver measured as a peer.

Seeds a throw-away index with ``manage.py seed_benchmark`` (a project shaped like
PyPI's ccxt, 4,632 releases and 9,172 files, plus 10,000 one-wheel projects),
serves it the production way (gunicorn with ``gunicorn.conf.py``: two sync workers
per core, ``DEBUG=false``) and measures, for ``/simple/ccxt/`` as HTML and as
PEP 691 JSON, each with and without ``Accept-Encoding: gzip``: sequential latency,
requests per second at 8 connections, the first requests after a change, the root
list, response sizes and a 304 revalidation. Then pypiserver (latest, in its own
venv under the throw-away folder, under gunicorn with as many workers) serves the
same ccxt files and is measured with the same code.

    .venv/bin/python benchmarks/simple_api.py                 # full size, a few minutes
    .venv/bin/python benchmarks/simple_api.py --quick         # small data, short runs
    .venv/bin/python benchmarks/simple_api.py --database-url postgres://postgres@127.0.0.1:5432/postgres

The markdown report goes to stdout (and ``--output``), progress to stderr. Every
process started is stopped at the end, also on an error or Ctrl-C. Exit status 0
when every target is met, 1 when one is missed, 2 when the benchmark could not run.
Linux only (it reads /proc).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import multiprocessing
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
JSON_V1 = "application/vnd.pypi.simple.v1+json"
# What pip 24-25 sends for an index page (requests adds gzip, deflate).
PIP_HEADERS = {
    "Accept": f"{JSON_V1}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01",
    "Accept-Encoding": "gzip, deflate",
}
VARIANTS: dict[str, dict[str, str]] = {
    "HTML": {"Accept": "text/html"},
    "HTML, gzip": {"Accept": "text/html", "Accept-Encoding": "gzip"},
    "JSON": {"Accept": JSON_V1},
    "JSON, gzip": {"Accept": JSON_V1, "Accept-Encoding": "gzip"},
}
STARTUP_TIMEOUT = 60
STOP_TIMEOUT = 15
COMMAND_TIMEOUT = 900

# Targets for this 2-core machine.
TARGET_PAGE_P50_MS = 5.0
TARGET_PAGE_RPS = 300.0
TARGET_FIRST_AFTER_CHANGE_MS = 200.0
TARGET_ROOT_P50_MS = 10.0

# The index's own settings, and gunicorn's extra-flags variable: the developer's
# values must not redirect the benchmark server (as in tests/e2e/helpers.py).
_INDEX_SETTINGS = {
    "CSRF_TRUSTED_ORIGINS", "FILE_STORAGE", "FILES_ROOT", "REDIS_URL", "PUBLIC_BASE_URL", "STATIC_ROOT",
    "LOG_LEVEL", "ADMIN_USERNAME", "ADMIN_PASSWORD", "ADMIN_EMAIL", "GUNICORN_CMD_ARGS", "SIMPLE_MAX_AGE",
    "SIMPLE_MEMORY_CACHE_MB", "DJANGO_SETTINGS_MODULE", "API_MAX_AGE", "TLS_CERT_FILE", "TLS_KEY_FILE",
}  # fmt: skip


class BenchmarkError(Exception):
    """The benchmark could not run (as opposed to the index being slow)."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- HTTP


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


def fetch(port: int, path: str, headers: dict[str, str], timeout: float = 60) -> Reply:
    """One GET on a fresh connection (gunicorn's sync workers close every connection anyway)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        seconds = time.perf_counter() - started
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body, seconds)
    finally:
        connection.close()


def expect(reply: Reply, status: int, what: str) -> Reply:
    if reply.status != status:
        raise BenchmarkError(f"{what} answered {reply.status}, expected {status}: {reply.body[:300]!r}")
    return reply


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


@dataclass
class Latency:
    p50: float
    p99: float
    samples: int

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        return cls(percentile(seconds, 50) * 1000, percentile(seconds, 99) * 1000, len(seconds))


def sequential(
    port: int, path: str, headers: dict[str, str], count: int, status: int = 200, budget: float | None = None
) -> Latency:
    """``count`` requests one after another; with a ``budget`` (seconds), fewer if time runs out (at least 10)."""
    times = []
    started = time.monotonic()
    for _ in range(count):
        reply = expect(fetch(port, path, headers), status, f"GET {path} {headers}")
        times.append(reply.seconds)
        if budget is not None and len(times) >= 10 and time.monotonic() - started > budget:
            break
    return Latency.of(times)


# ---------------------------------------------------------------- load


@dataclass
class Load:
    rps: float
    requests: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    server_cpu_ms: float | None  # server CPU time per request


def _load_worker(port: int, path: str, headers: dict[str, str], start: float, end: float) -> tuple[int, int]:
    """One connection's loop, in its own process: requests completed inside [start, end], errors."""
    while time.time() < start:
        time.sleep(0.001)
    done = errors = 0
    while time.time() < end:
        try:
            reply = fetch(port, path, headers, timeout=30)
        except OSError:
            errors += 1
            continue
        if time.time() > end:
            break
        if reply.status == 200:
            done += 1
        else:
            errors += 1
    return done, errors


class LoadTool:
    """wrk when it is on PATH, else a multi-process Python load generator."""

    def __init__(self, connections: int, prefer_python: bool = False) -> None:
        self.connections = connections
        self.wrk = None if prefer_python else shutil.which("wrk")
        self.threads = max(1, min(connections, os.cpu_count() or 1))

    @property
    def description(self) -> str:
        if self.wrk:
            version = subprocess.run([self.wrk, "-v"], capture_output=True, text=True, check=False)  # noqa: S603
            first = (version.stdout or version.stderr).splitlines()[0] if (version.stdout or version.stderr) else ""
            name = first.split("[")[0].strip() or "wrk"
            return f"{name} ({self.threads} threads, {self.connections} connections)"
        return f"Python load generator ({self.connections} processes, one connection each)"

    def run(self, port: int, path: str, headers: dict[str, str], seconds: float, server_pid: int | None) -> Load:
        cpu_before = tree_cpu_seconds(server_pid) if server_pid else None
        load = self._wrk(port, path, headers, seconds) if self.wrk else self._python(port, path, headers, seconds)
        if cpu_before is not None and load.requests:
            load.server_cpu_ms = (tree_cpu_seconds(server_pid) - cpu_before) / load.requests * 1000
        return load

    def _wrk(self, port: int, path: str, headers: dict[str, str], seconds: float) -> Load:
        command = [self.wrk, f"-t{self.threads}", f"-c{self.connections}", f"-d{max(1, round(seconds))}s"]
        command += ["--latency", "--timeout", "30s"]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        command.append(f"http://{HOST}:{port}{path}")
        result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
        out = result.stdout
        if result.returncode != 0 or "Requests/sec" not in out:
            raise BenchmarkError(f"wrk failed ({result.returncode}):\n{out}\n{result.stderr}")
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        total = int(re.search(r"(\d+) requests in", out).group(1))
        errors = 0
        if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
            errors += int(match.group(1))
        if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
            # wrk counts a server's close after each response (sync workers) as a read error only
            # when bytes were lost; connect/write/timeout are real errors.
            errors += int(match.group(1)) + int(match.group(3)) + int(match.group(4))
        return Load(rps, total, errors, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"), None)

    def _python(self, port: int, path: str, headers: dict[str, str], seconds: float) -> Load:
        start = time.time() + 0.5  # every process connected and waiting before the clock starts
        end = start + seconds
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(self.connections, mp_context=context) as pool:
            futures = [pool.submit(_load_worker, port, path, headers, start, end) for _ in range(self.connections)]
            results = [future.result(timeout=seconds + 60) for future in futures]
        done = sum(r[0] for r in results)
        return Load(done / seconds, done, sum(r[1] for r in results), None, None, None)


def _wrk_ms(out: str, label: str) -> float | None:
    match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if match is None:
        return None
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


# ---------------------------------------------------------------- /proc


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a gunicorn master and its (live) workers."""
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in children_of(pid))


# ---------------------------------------------------------------- processes

_STARTED: list[Server] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    port: int
    cwd: Path = REPO_ROOT
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, ready_path: str) -> None:
        _STARTED.append(self)
        with open(self.log_path, "ab") as out:
            # A session of its own: the master and its workers are killed together.
            self.process = subprocess.Popen(  # noqa: S603 - our own commands, fixed arguments
                self.command, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchmarkError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if fetch(self.port, ready_path, {}, timeout=30).status < 500:
                    return
            time.sleep(0.1)
        raise BenchmarkError(f"{self.name} did not answer within {STARTUP_TIMEOUT}s:\n{self.log_tail()}")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def workers(self) -> list[int]:
        return children_of(self.pid) if self.pid else []

    def stop(self) -> None:
        """SIGTERM to the master, then SIGKILL to its whole process group; never raises."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # leftovers: the group id is the master's pid
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def run_command(command: list[str], env: dict[str, str] | None = None, cwd: Path = REPO_ROOT) -> str:
    result = subprocess.run(  # noqa: S603 - our own commands, fixed arguments
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )
    if result.returncode != 0:
        raise BenchmarkError(
            f"{' '.join(command[:4])} ... exited {result.returncode}\n--- stdout\n{result.stdout}\n"
            f"--- stderr\n{result.stderr}"
        )
    return result.stdout


# ---------------------------------------------------------------- the index


def index_environment(data_dir: Path, database_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_")) and key not in _INDEX_SETTINGS
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        INDEX_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        ALLOWED_HOSTS=HOST,
        DJANGO_SETTINGS_MODULE="indexsite.settings",
    )
    return env


@contextlib.contextmanager
def throwaway_database(data_dir: Path, database_url: str | None) -> Iterator[str]:
    """SQLite in the data folder, or a fresh PostgreSQL database next to the one named (dropped after)."""
    if not database_url:
        yield f"sqlite:///{data_dir / 'index.sqlite3'}"
        return
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(database_url)
    name = f"pyidx_bench_{secrets.token_hex(6)}"
    maintenance = parts._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class Index:
    def __init__(self, base: Path, database_url: str, access_log: bool) -> None:
        self.data_dir = base / "data"
        (self.data_dir / "static").mkdir(parents=True)  # whitenoise warns when STATIC_ROOT is missing
        self.env = index_environment(self.data_dir, database_url)
        self.port = free_port()
        command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
        command += ["--bind", f"{HOST}:{self.port}", "--no-control-socket"]
        if not access_log:
            # gunicorn.conf.py logs every request to stdout; gunicorn has no flag to turn a
            # configured access log off again, so its lines go nowhere instead.
            command += ["--access-logfile", os.devnull]
        command.append("indexsite.wsgi")
        self.server = Server("gunicorn (index)", command, self.env, base / "gunicorn.log", self.port)
        self.changes = 0

    def manage(self, *args: str) -> str:
        return run_command([sys.executable, "manage.py", *args], env=self.env)

    def change(self, project: str) -> None:
        """A new (file-less) release through the product's own service, in another process."""
        self.changes += 1
        self.manage(
            "shell",
            "--verbosity",
            "0",
            "-c",
            "from packages_app.models import Project\n"
            "from packages_app.services.releases import create_release\n"
            f"create_release(Project.objects.get(normalized_name={project!r}), '9999.0.{self.changes}')\n",
        )


# ---------------------------------------------------------------- pypiserver


class Peer:
    """pypiserver from PyPI in a venv of its own, under gunicorn with as many workers as the index."""

    def __init__(self, base: Path, packages: Path, workers: int) -> None:
        self.venv = base / "pypiserver-venv"
        self.packages = packages
        self.port = free_port()
        self.workers = workers
        self.versions: dict[str, str] = {}
        self.server: Server | None = None
        self.log_path = base / "pypiserver.log"

    def install(self) -> None:
        run_command([sys.executable, "-m", "venv", str(self.venv)])
        python = str(self.venv / "bin" / "python")
        # [cache] adds watchdog: the directory listing and the digests are cached in memory
        # instead of being recomputed on every request (pypiserver's advice for big folders).
        run_command(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            + ["pypiserver[cache]", "gunicorn"]
        )
        listing = json.loads(
            run_command([python, "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"])
        )
        self.versions = {row["name"].lower(): row["version"] for row in listing}

    def start(self, project: str) -> None:
        python = str(self.venv / "bin" / "python")
        app = f"pypiserver:app(root={str(self.packages)!r}, authenticate=[], password_file='.', disable_fallback=True)"
        command = [python, "-m", "gunicorn", "--workers", str(self.workers), "--bind", f"{HOST}:{self.port}"]
        help_text = run_command([python, "-m", "gunicorn", "--help"])
        if "--no-control-socket" in help_text:
            command.append("--no-control-socket")
        command.append(app)
        env = {key: value for key, value in os.environ.items() if key != "GUNICORN_CMD_ARGS"}
        self.server = Server("gunicorn (pypiserver)", command, env, self.log_path, self.port, cwd=self.packages)
        self.server.start(f"/simple/{project}/")


def link_project_files(files_root: Path, dist_name: str, target: Path) -> int:
    """Hard-link (or copy) a project's distributions from content-addressed storage into a flat folder."""
    target.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(rf"^{re.escape(dist_name)}-\d.*\.(whl|tar\.gz)$")
    count = 0
    for folder, _dirs, names in os.walk(files_root):
        for name in names:
            if pattern.match(name):
                source = os.path.join(folder, name)
                try:
                    os.link(source, target / name)
                except OSError:
                    shutil.copy2(source, target / name)
                count += 1
    return count


# ---------------------------------------------------------------- measurements


@dataclass
class PageFigures:
    size: int = 0
    latency: Latency | None = None
    load: Load | None = None
    first_after_change: list[list[float]] = field(default_factory=list)  # per repeat, 4 requests (ms)
    root_after_change: list[float] = field(default_factory=list)
    not_modified: Latency | None = None


@dataclass
class Results:
    project: str
    pages: dict[str, PageFigures] = field(default_factory=dict)
    root: dict[str, PageFigures] = field(default_factory=dict)
    pip: PageFigures | None = None
    peer_pip: PageFigures | None = None
    peer_html: PageFigures | None = None
    peer_versions: dict[str, str] = field(default_factory=dict)
    seed_output: str = ""
    seed_seconds: float = 0.0
    peer_install_seconds: float = 0.0
    peer_files: int = 0
    notes: list[str] = field(default_factory=list)


def check_representation(reply: Reply, variant: str, headers: dict[str, str]) -> None:
    content_type = reply.headers.get("content-type", "")
    wants_json = headers.get("Accept", "").startswith(JSON_V1)
    if wants_json != (content_type == JSON_V1):
        raise BenchmarkError(f"{variant}: answered {content_type}")
    gzipped = reply.headers.get("content-encoding") == "gzip"
    if gzipped != ("gzip" in headers.get("Accept-Encoding", "")):
        raise BenchmarkError(f"{variant}: Content-Encoding {reply.headers.get('content-encoding')!r}")


def warm(port: int, path: str, headers: dict[str, str], tool: LoadTool, seconds: float) -> Reply:
    """A few sequential requests, then a short burst so every worker has built the page."""
    reply = expect(fetch(port, path, headers), 200, f"GET {path}")
    for _ in range(5):
        expect(fetch(port, path, headers), 200, f"GET {path}")
    tool.run(port, path, headers, seconds, None)
    return reply


def measure_index(index: Index, args, tool: LoadTool, results: Results) -> None:
    port, project = index.port, args.project_name
    page = f"/simple/{project}/"
    log("Warming the index ...")
    for variant, headers in VARIANTS.items():
        reply = warm(port, page, headers, tool, args.warm_seconds)
        check_representation(reply, variant, headers)
        results.pages[variant] = PageFigures(size=len(reply.body))
        root_reply = warm(port, "/simple/", headers, tool, args.warm_seconds)
        check_representation(root_reply, variant, headers)
        results.root[variant] = PageFigures(size=len(root_reply.body))
    warm(port, page, PIP_HEADERS, tool, args.warm_seconds)

    for variant, headers in VARIANTS.items():
        log(f"Sequential latency, {page} {variant} ...")
        results.pages[variant].latency = sequential(port, page, headers, args.requests)
        log(f"Sequential latency, /simple/ {variant} ...")
        results.root[variant].latency = sequential(port, "/simple/", headers, args.requests)
        etag = fetch(port, page, headers).headers["etag"]
        results.pages[variant].not_modified = sequential(
            port, page, {**headers, "If-None-Match": etag}, args.requests, status=304
        )

    for variant, headers in VARIANTS.items():
        log(f"Load at {tool.connections} connections for {args.duration:g}s, {page} {variant} ...")
        results.pages[variant].load = tool.run(port, page, headers, args.duration, index.server.pid)
    results.pip = PageFigures(size=len(fetch(port, page, PIP_HEADERS).body))
    results.pip.latency = sequential(port, page, PIP_HEADERS, args.requests)
    log(f"Load at {tool.connections} connections, {page} with pip's headers ...")
    results.pip.load = tool.run(port, page, PIP_HEADERS, args.duration, index.server.pid)

    # Last, since every change moves the page to a new serial.
    for variant in ("JSON, gzip", "HTML, gzip"):
        headers = VARIANTS[variant]
        figures = results.pages[variant]
        for repeat in range(args.repeats):
            log(f"First requests after a change, {variant} ({repeat + 1}/{args.repeats}) ...")
            index.change(project)
            times = []
            for _ in range(4):
                reply = expect(fetch(port, page, headers), 200, f"GET {page} after a change")
                times.append(reply.seconds * 1000)
            figures.first_after_change.append(times)
            root = expect(fetch(port, "/simple/", headers), 200, "GET /simple/ after a change")
            figures.root_after_change.append(root.seconds * 1000)


def measure_peer(peer: Peer, args, tool: LoadTool, results: Results) -> None:
    port, page = peer.port, f"/simple/{args.project_name}/"
    log("Warming pypiserver ...")
    html_headers = {"Accept": "text/html"}
    for headers in (PIP_HEADERS, html_headers):
        warm(port, page, headers, tool, args.warm_seconds)
    results.peer_pip = PageFigures(size=len(fetch(port, page, PIP_HEADERS).body))
    # pypiserver rebuilds the page on every request (about 2 s for ccxt): time-box its latency runs.
    results.peer_pip.latency = sequential(port, page, PIP_HEADERS, args.requests, budget=args.peer_budget)
    results.peer_html = PageFigures(size=len(fetch(port, page, html_headers).body))
    results.peer_html.latency = sequential(port, page, html_headers, args.requests, budget=args.peer_budget)
    log(f"pypiserver: load at {tool.connections} connections, pip's headers ...")
    results.peer_pip.load = tool.run(port, page, PIP_HEADERS, args.duration, peer.server.pid)
    log(f"pypiserver: load at {tool.connections} connections, text/html ...")
    results.peer_html.load = tool.run(port, page, html_headers, args.duration, peer.server.pid)


# ---------------------------------------------------------------- report


def machine_info() -> dict[str, str]:
    info = {
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory"] = f"{int(line.split()[1]) / 1024**2:.0f} GiB"
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        info["django"] = version("django")
        info["gunicorn"] = version("gunicorn")
    return info


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _kib(size: int) -> str:
    return f"{size / 1024:,.0f} KiB" if size >= 10 * 1024 else f"{size:,} B"


def _rps(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _ratio(ours: float | None, theirs: float | None) -> str:
    return "–" if not ours or not theirs else f"{ours / theirs:.3g}"


def report(results: Results, args, tool: LoadTool, info: dict[str, str], load_before, load_after, total: float):
    page = f"/simple/{results.project}/"
    workers = (os.cpu_count() or 1) * 2
    lines = [
        f"## Simple API benchmark, {info['date']}" + (" (--quick)" if args.quick else ""),
        "",
        f"Machine: {info['cores']} cores ({info.get('cpu', '?')}), {info.get('memory', '?')} RAM, "
        f"{info['platform']}; Python {info['python']}, Django {info.get('django', '?')}, "
        f"gunicorn {info.get('gunicorn', '?')} ({workers} sync workers from gunicorn.conf.py, access log "
        f"{'to a file, as configured' if args.access_log else 'to /dev/null'}), "
        + ("PostgreSQL" if args.database_url else f"SQLite {info['sqlite']}")
        + f". Load average {load_before[0]:.2f} before, {load_after[0]:.2f} after.",
        "",
        "Data (seed_benchmark): " + " ".join(line.strip() for line in results.seed_output.strip().splitlines()),
        f"Seeding took {results.seed_seconds:.1f} s wall (with Django start-up); the whole run {total:.0f} s.",
        "",
        f"Load: {tool.description}, {args.duration:g} s per run; the client runs on the same "
        f"{info['cores']} cores as the server and takes a share of them. Sequential latency: "
        f"{args.requests} requests, one at a time, each on a new connection (sync workers close it), "
        "timed from connect to the last body byte read by a Python client.",
        "",
        f"### Big project page `{page}` (warm)",
        "",
        "| representation | body | p50 ms | p99 ms | req/s at 8 conn. | under load p50 / p99 ms "
        "| server CPU ms/req | 304 p50 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for variant, figures in results.pages.items():
        load = figures.load
        lines.append(
            f"| {variant} | {_kib(figures.size)} | {_ms(figures.latency.p50)} | {_ms(figures.latency.p99)} | "
            f"{load.rps:.0f}{f' ({load.errors} errors)' if load.errors else ''} | "
            f"{_ms(load.p50_ms)} / {_ms(load.p99_ms)} | {_ms(load.server_cpu_ms)} | "
            f"{_ms(figures.not_modified.p50)} |"
        )
    if results.pip is not None:
        load = results.pip.load
        lines.append(
            f"| pip's headers (JSON, gzip) | {_kib(results.pip.size)} | {_ms(results.pip.latency.p50)} | "
            f"{_ms(results.pip.latency.p99)} | {load.rps:.0f} | {_ms(load.p50_ms)} / {_ms(load.p99_ms)} | "
            f"{_ms(load.server_cpu_ms)} | |"
        )
    lines += [
        "",
        f"### First requests after a change (median of {args.repeats})",
        "",
        "A new release is registered through `create_release` in a `manage.py shell` process, then the page "
        "is fetched 4 times in a row. Each gunicorn worker keeps its own page memory, so each of the "
        f"{workers} workers builds the new page on the first request it gets; which worker takes a request "
        "is up to the kernel. The root list (every change moves the global serial) is fetched after them.",
        "",
        "| representation | 1st ms | 2nd ms | 3rd ms | 4th ms | slowest of 4 ms | root list 1st ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant, figures in results.pages.items():
        if not figures.first_after_change:
            continue
        columns = [statistics.median(times[i] for times in figures.first_after_change) for i in range(4)]
        slowest = statistics.median(max(times) for times in figures.first_after_change)
        lines.append(
            f"| {variant} | " + " | ".join(_ms(value) for value in columns) + f" | {_ms(slowest)} | "
            f"{_ms(statistics.median(figures.root_after_change))} |"
        )
    lines += [
        "",
        "### Root list `/simple/` (warm)",
        "",
        "| representation | body | p50 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    for variant, figures in results.root.items():
        lines.append(f"| {variant} | {_kib(figures.size)} | {_ms(figures.latency.p50)} | {_ms(figures.latency.p99)} |")
    if results.peer_pip is not None:
        ours_pip, theirs_pip = results.pip, results.peer_pip
        ours_html, theirs_html = results.pages["HTML"], results.peer_html
        lines += [
            "",
            f"### Peer: pypiserver {results.peer_versions.get('pypiserver', '?')}",
            "",
            f"pypiserver {results.peer_versions.get('pypiserver', '?')} with watchdog "
            f"{results.peer_versions.get('watchdog', '?')} (its `[cache]` extra: listing and digests cached in "
            f"memory) under gunicorn {results.peer_versions.get('gunicorn', '?')} with {workers} sync workers "
            f"(`gunicorn -w{workers} 'pypiserver:app(root=...)'`, as its README shows), no access log, "
            f"serving a flat folder of the same {results.peer_files:,} {results.project} files (hard links). "
            "It answers HTML only and never compresses. Ratios are ours / theirs.",
            "",
            "| measure | ours | pypiserver | ours / theirs |",
            "|---|---|---|---|",
            f"| body, pip's headers | {_kib(ours_pip.size)} (JSON, gzip) | {_kib(theirs_pip.size)} (HTML) | "
            f"{_ratio(ours_pip.size, theirs_pip.size)} |",
            f"| p50 ms, pip's headers | {_ms(ours_pip.latency.p50)} | {_ms(theirs_pip.latency.p50)} "
            f"({theirs_pip.latency.samples} requests) | "
            f"{_ratio(ours_pip.latency.p50, theirs_pip.latency.p50)} |",
            f"| p99 ms, pip's headers | {_ms(ours_pip.latency.p99)} | {_ms(theirs_pip.latency.p99)} | "
            f"{_ratio(ours_pip.latency.p99, theirs_pip.latency.p99)} |",
            f"| req/s at 8 conn., pip's headers | {_rps(ours_pip.load.rps)} | {_rps(theirs_pip.load.rps)} | "
            f"{_ratio(ours_pip.load.rps, theirs_pip.load.rps)} |",
            f"| server CPU ms/req, pip's headers | {_ms(ours_pip.load.server_cpu_ms)} | "
            f"{_ms(theirs_pip.load.server_cpu_ms)} | "
            f"{_ratio(ours_pip.load.server_cpu_ms, theirs_pip.load.server_cpu_ms)} |",
            f"| body, `text/html` without gzip | {_kib(ours_html.size)} | {_kib(theirs_html.size)} | "
            f"{_ratio(ours_html.size, theirs_html.size)} |",
            f"| p50 ms, `text/html` without gzip | {_ms(ours_html.latency.p50)} | {_ms(theirs_html.latency.p50)} "
            f"({theirs_html.latency.samples} requests) | "
            f"{_ratio(ours_html.latency.p50, theirs_html.latency.p50)} |",
            f"| req/s at 8 conn., `text/html` without gzip | {_rps(ours_html.load.rps)} | "
            f"{_rps(theirs_html.load.rps)} | {_ratio(ours_html.load.rps, theirs_html.load.rps)} |",
        ]
    verdicts = targets(results)
    lines += ["", "### Targets", "", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {measured} | {'yes' if met else '**no**'} |" for name, measured, met in verdicts]
    lines += [f"- {note}" for note in results.notes]
    return "\n".join(lines) + "\n", all(met for _, _, met in verdicts)


def targets(results: Results) -> list[tuple[str, str, bool]]:
    found = []
    for variant in ("HTML", "HTML, gzip", "JSON", "JSON, gzip"):
        figures = results.pages[variant]
        found.append(
            (f"page p50 ≤ {TARGET_PAGE_P50_MS:g} ms, {variant}", f"{_ms(figures.latency.p50)} ms",
             figures.latency.p50 <= TARGET_PAGE_P50_MS)
        )  # fmt: skip
        found.append(
            (f"page ≥ {TARGET_PAGE_RPS:g} req/s at 8 connections, {variant}", f"{figures.load.rps:.1f} req/s",
             figures.load.rps >= TARGET_PAGE_RPS)
        )  # fmt: skip
    for variant, figures in results.pages.items():
        if figures.first_after_change:
            first = statistics.median(times[0] for times in figures.first_after_change)
            slowest = statistics.median(max(times) for times in figures.first_after_change)
            found.append(
                (f"first request after a change ≤ {TARGET_FIRST_AFTER_CHANGE_MS:g} ms, {variant}",
                 f"{_ms(first)} ms (slowest of 4: {_ms(slowest)} ms)", first <= TARGET_FIRST_AFTER_CHANGE_MS)
            )  # fmt: skip
    for variant in ("HTML", "JSON"):
        figures = results.root[variant]
        found.append(
            (f"root list p50 ≤ {TARGET_ROOT_P50_MS:g} ms, {variant}", f"{_ms(figures.latency.p50)} ms",
             figures.latency.p50 <= TARGET_ROOT_P50_MS)
        )  # fmt: skip
    return found


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data and short runs, for iterating")
    parser.add_argument("--database-url", help="a PostgreSQL URL; a throw-away database is made beside it")
    parser.add_argument("--output", type=Path, help="also write the markdown report to this file")
    parser.add_argument("--project-name", default="ccxt")
    parser.add_argument("--releases", type=int, help="releases of the big project (4632; --quick 300)")
    parser.add_argument("--small-projects", type=int, help="one-wheel projects (10000; --quick 500)")
    parser.add_argument("--requests", type=int, help="sequential requests per measure (200; --quick 50)")
    parser.add_argument("--duration", type=float, help="seconds per load run (10; --quick 3)")
    parser.add_argument("--repeats", type=int, help="changes per representation (5; --quick 2)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--access-log", action="store_true", help="keep gunicorn.conf.py's access log (to a file)")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even if wrk is there")
    parser.add_argument("--no-peer", action="store_true", help="skip pypiserver")
    parser.add_argument(
        "--peer-budget", type=float, default=30.0, help="seconds for each pypiserver latency run (at least 10 requests)"
    )
    parser.add_argument("--tmpdir", type=Path, help="where the throw-away folder goes (default: $TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the throw-away folder (its path is printed)")
    args = parser.parse_args(argv)
    quick = args.quick
    for name, full, small in (
        ("releases", 4632, 300),
        ("small_projects", 10_000, 500),
        ("requests", 200, 50),
        ("duration", 10.0, 3.0),
        ("repeats", 5, 2),
    ):
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    args.warm_seconds = 1.0 if quick else 2.0
    if args.database_url and not args.database_url.startswith("postgres"):
        parser.error("--database-url takes a postgres:// URL (SQLite is the default)")
    return args


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path("/proc/self/stat").exists():
        log("This benchmark reads /proc and runs on Linux only.")
        return 2
    started = time.monotonic()
    load_before = os.getloadavg()
    info = machine_info()
    tool = LoadTool(args.connections, prefer_python=args.python_load)
    base = Path(tempfile.mkdtemp(prefix="pyidx-simple-bench-", dir=args.tmpdir))
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    results = Results(project=args.project_name)
    log(f"Throw-away folder: {base}")
    try:
        with throwaway_database(base / "data", args.database_url) as database_url:
            index = Index(base, database_url, args.access_log)
            log("migrate ...")
            index.manage("migrate", "--noinput")
            log(f"seed_benchmark --releases {args.releases} --small-projects {args.small_projects} --with-files ...")
            seed_started = time.monotonic()
            results.seed_output = index.manage(
                "seed_benchmark",
                "--releases",
                str(args.releases),
                "--small-projects",
                str(args.small_projects),
                "--project-name",
                args.project_name,
                "--with-files",
            )
            results.seed_seconds = time.monotonic() - seed_started
            log(results.seed_output.strip())

            peer = None
            if not args.no_peer:
                log("Installing pypiserver[cache] and gunicorn into a venv of their own ...")
                peer_started = time.monotonic()
                dist_name = re.sub(r"[-_.]+", "_", args.project_name).lower()
                packages = base / "pypiserver-packages"
                results.peer_files = link_project_files(index.data_dir / "files", dist_name, packages)
                peer = Peer(base, packages, (os.cpu_count() or 1) * 2)
                peer.install()
                results.peer_versions = peer.versions
                results.peer_install_seconds = time.monotonic() - peer_started

            log(f"Starting gunicorn on port {index.port} ...")
            index.server.start("/simple/")
            workers = index.server.workers()
            log(f"  master {index.server.pid}, workers {workers}")
            try:
                measure_index(index, args, tool, results)
            finally:
                index.server.stop()

            if peer is not None:
                log(f"Starting pypiserver on port {peer.port} ...")
                try:
                    peer.start(args.project_name)
                    measure_peer(peer, args, tool, results)
                finally:
                    if peer.server is not None:
                        peer.server.stop()
    except KeyboardInterrupt:
        log("Interrupted.")
        return 130
    except (BenchmarkError, OSError, http.client.HTTPException, subprocess.TimeoutExpired) as exc:
        log(f"The benchmark could not run: {exc}")
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
        for server in _STARTED:
            server.stop()
        if args.keep:
            log(f"Kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)

    text, all_met = report(results, args, tool, info, load_before, os.getloadavg(), time.monotonic() - started)
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
