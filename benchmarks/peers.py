"""The peers: pypiserver and devpi-server, from the public index, in the benchmark's own venv.

The venv (``benchmarks/.peers/venv``) is made once from ``peers-requirements.txt`` with
the machine's pip configuration and reused while that file is unchanged; it also holds
matplotlib for the plot. Never the index's ``.venv``.

- **pypiserver** serves a flat folder of the same files (hard links), under gunicorn with
  as many sync workers as ours (``gunicorn -w N 'pypiserver:app(root=...)'``, as its README
  runs it under gunicorn), with its ``[cache]`` extra (watchdog: the listing is cached).
- **devpi-server** holds the same projects, versions and files in private indexes
  (``root/<group>``), loaded with its own importer from an export folder made from our
  database (``django_tasks.py export-peers``), sped up by ``devpi_import.py``; the loaded
  server folder is kept in ``benchmarks/.peers/devpi-cache`` by the export's digest.
  It runs as its documented server (waitress, one process, its default threads).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import urllib.parse
from pathlib import Path

from client import HOST, JSON_V1, BenchmarkError, Request, expect, fetch
from processes import Server, free_port, log, run_command

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / ".peers"
REQUIREMENTS = BENCH_DIR / "peers-requirements.txt"
DEVPI_IMPORT = BENCH_DIR / "devpi_import.py"
# What a run changes in devpi's server folder (its database and how far its events went).
PRISTINE_FILES = (".sqlite", ".event_serial")


class PeersVenv:
    def __init__(self, root: Path = PEERS_DIR) -> None:
        self.root = root
        self.venv = root / "venv"
        self.python = str(self.venv / "bin" / "python")
        self.versions: dict[str, str] = {}

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def ensure(self) -> float:
        """Make or reuse the venv; returns the seconds spent installing (0 when reused)."""
        digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
        stamp = self.venv / f".installed-{digest}"
        started = time.monotonic()
        if not stamp.exists():
            if self.venv.exists():
                shutil.rmtree(self.venv)
            log(f"Installing the peers into {self.venv} (once) ...")
            run_command([sys.executable, "-m", "venv", str(self.venv)])
            run_command(
                [self.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)]
            )
            stamp.touch()
        spent = time.monotonic() - started if stamp.exists() else 0.0
        listing = json.loads(run_command([self.python, "-m", "pip", "list", "--format", "json"]))
        self.versions = {row["name"].lower(): row["version"] for row in listing}
        return spent


# ---------------------------------------------------------------- pypiserver


class Pypiserver:
    name = "pypiserver"

    def __init__(self, venv: PeersVenv, root: Path, workers: int, log_path: Path) -> None:
        self.root = root
        self.port = free_port()
        app = f"pypiserver:app(root={str(root)!r}, authenticate=[], password_file='.', disable_fallback=True)"
        command = [venv.python, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{HOST}:{self.port}"]
        command += ["--no-control-socket", app]
        env = {key: value for key, value in os.environ.items() if key != "GUNICORN_CMD_ARGS"}
        self.server = Server(f"pypiserver ({root.name})", command, env, log_path, self.port, cwd=root)

    def start(self) -> float:
        return self.server.start(Request("/simple/"))

    def simple(self, project: str) -> str:
        return f"/simple/{project}/"

    root_list = "/simple/"

    def upload_path(self, index: str = "") -> str:
        return "/"

    def legacy_json(self, project: str) -> str:
        return f"/{project}/json"

    def download(self, filename: str) -> str:
        return f"/packages/{filename}"


# ---------------------------------------------------------------- devpi-server


class Devpi:
    name = "devpi"

    def __init__(self, venv: PeersVenv, log_path: Path, index: str = "root/main") -> None:
        self.venv = venv
        self.log_path = log_path
        self.port = free_port()
        self.index = index
        self.server: Server | None = None
        self.import_seconds = 0.0
        self.import_cached = False

    def load(self, export: Path, cache_root: Path = PEERS_DIR / "devpi-cache") -> None:
        """devpi's import of ``export``, or the server folder a former run imported from the same
        export (by digest) with the same devpi and importer.

        The server runs in the cached folder itself; its database and event serial are put back
        from pristine copies first, so what a former run uploaded is forgotten. (The files those
        uploads stored stay, unreferenced, and are overwritten by the same uploads next time.)
        """
        key = hashlib.sha256()
        key.update((export / "dataindex.json").read_bytes())
        key.update(DEVPI_IMPORT.read_bytes())
        key.update(self.venv.versions.get("devpi-server", "?").encode())
        cached = cache_root / key.hexdigest()[:24]
        serverdir, pristine = cached / "server", cached / "pristine"
        started = time.monotonic()
        if (cached / ".complete").exists():
            self.import_cached = True
            self.import_seconds = float((cached / ".complete").read_text() or 0)
            (cached / ".complete").touch()
        else:
            # With this one, four: the main and scaling data of a full run and of a --quick run.
            _prune(cache_root, keep=3)
            shutil.rmtree(cached, ignore_errors=True)  # what an interrupted import left
            log("Importing the data into devpi-server (cached for later runs) ...")
            _link_export_files(export)
            command = [self.venv.python, str(DEVPI_IMPORT), "--serverdir", str(serverdir)]
            command += ["--no-root-pypi", "--hard-links", "--no-events", str(export)]
            run_command(command, cwd=BENCH_DIR)
            pristine.mkdir()
            for name in PRISTINE_FILES:
                shutil.copy2(serverdir / name, pristine / name)
            self.import_seconds = time.monotonic() - started
            (cached / ".complete").write_text(f"{self.import_seconds:.1f}")
        for name in PRISTINE_FILES:
            shutil.copy2(pristine / name, serverdir / name)
        command = [
            self.venv.bin("devpi-server"),
            "--serverdir",
            str(serverdir),
            "--host",
            HOST,
            "--port",
            str(self.port),
        ]
        # PEP 658 metadata, so that .metadata can be measured (devpi calls it experimental).
        command.append("--enable-core-metadata")
        self.server = Server("devpi-server", command, dict(os.environ), self.log_path, self.port, cwd=cached)

    def start(self) -> float:
        return self.server.start(Request("/+api"))

    def simple(self, project: str, index: str = "") -> str:
        return f"/{index or self.index}/+simple/{project}/"

    @property
    def root_list(self) -> str:
        return f"/{self.index}/+simple/"

    def upload_path(self, index: str = "") -> str:
        return f"/{index or self.index}/"

    def legacy_json(self, project: str, index: str = "") -> str:
        return f"/{index or self.index}/{project}"

    def release_json(self, project: str, version: str) -> str:
        return f"/{self.index}/{project}/{version}"

    def file_url(self, project: str, filename: str) -> str:
        """The path devpi serves a file at (content-addressed: read from its simple page)."""
        page = self.simple(project)
        reply = expect(self.port, Request(page, {"Accept": JSON_V1}), timeout=600)
        for entry in json.loads(reply.body)["files"]:
            if entry["filename"] == filename:
                return urllib.parse.urljoin(page, entry["url"])
        raise BenchmarkError(f"devpi does not list {filename}")

    def wait_for_events(self, timeout: float = 600) -> None:
        """devpi runs its change hooks in a background thread after writes; wait until it caught up,
        so that no measurement shares the CPU with it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = json.loads(fetch(self.port, Request("/+status", {"Accept": "application/json"})).body)["result"]
            if status["event-serial"] >= status["serial"]:
                return
            time.sleep(0.2)
        raise BenchmarkError(f"devpi-server did not process its events within {timeout:g}s")


def _prune(cache_root: Path, keep: int) -> None:
    """Remove all but the ``keep`` most recently used imports (they take a GB or two on disk),
    and what interrupted imports left long ago (an import in progress has no ``.complete``)."""
    if not cache_root.exists():
        return
    complete = [entry for entry in cache_root.iterdir() if (entry / ".complete").exists()]
    complete.sort(key=lambda entry: (entry / ".complete").stat().st_mtime, reverse=True)
    stale = [
        entry
        for entry in cache_root.iterdir()
        if not (entry / ".complete").exists() and time.time() - entry.stat().st_mtime > 6 * 3600
    ]
    for entry in complete[keep:] + stale:
        shutil.rmtree(entry, ignore_errors=True)


def _link_export_files(export: Path) -> None:
    """The export's files as devpi's importer expects them, linked from our storage only when it
    runs (``links.tsv``: source path, path in the export)."""
    with (export / "links.tsv").open() as listing:
        for line in listing:
            source, relative = line.rstrip("\n").split("\t")
            target = export / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
