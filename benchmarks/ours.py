"""Our index, run the way the README's production section runs it, on a throw-away data folder.

gunicorn with the repository's ``gunicorn.conf.py`` (its worker count for this machine's
cores, its access log), ``DEBUG=false``, a ``SECRET_KEY``, ``ALLOWED_HOSTS``; SQLite and
files on local disk (the embedded default), or a throw-away PostgreSQL database.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

from client import HOST, Request
from processes import REPO_ROOT, Server, free_port, run_command

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from harness import databases, servers  # noqa: E402

DJANGO_TASKS = str(Path(__file__).with_name("django_tasks.py"))
SEED = str(Path(__file__).with_name("seed.py"))
# Big enough for the 1 GiB upload; a limit, not a code path.
MAX_FILE_SIZE = 2 * 1024**3

# The index's own settings, and gunicorn's extra-flags variable: a developer's values
# must not redirect the benchmark server (as in tests/e2e/helpers.py).
_INDEX_SETTINGS = {
    "CSRF_TRUSTED_ORIGINS", "FILE_STORAGE", "FILES_ROOT", "REDIS_URL", "PUBLIC_BASE_URL", "STATIC_ROOT",
    "LOG_LEVEL", "ADMIN_USERNAME", "ADMIN_PASSWORD", "ADMIN_EMAIL", "GUNICORN_CMD_ARGS", "SIMPLE_MAX_AGE",
    "PAGE_STORE_DIR", "DJANGO_SETTINGS_MODULE", "API_MAX_AGE", "TLS_CERT_FILE", "TLS_KEY_FILE",
    "MAX_FILE_SIZE", "MAX_PROJECT_SIZE", "DEBUG", "DATABASE_URL", "INDEX_DATA_DIR", "ALLOWED_HOSTS",
    "PROJECT_CREATION", "ALLOW_PASSWORD_UPLOADS", "ALLOW_LOCAL_VERSIONS", "READ_ACCESS", "NEW_PROJECT_VISIBILITY",
    "CREDENTIALS_CACHE_SECONDS", "UPSTREAM_INDEX_URL", "UPSTREAM_BLOCKED_PREFIXES", "UPSTREAM_ALLOWED_PROJECTS",
    "UPSTREAM_PAGE_TTL", "UPSTREAM_TIMEOUT_SECONDS", "UPSTREAM_MAX_PAGE_BYTES", "UPSTREAM_COOLDOWN",
    "UPSTREAM_COOLDOWN_EXEMPT_PROJECTS", "UPSTREAM_NOT_AFTER", "SIMPLE_DEFAULT_COOLDOWN",
}  # fmt: skip


def gunicorn_workers() -> int:
    """What gunicorn.conf.py asks for on this machine."""
    namespace: dict = {}
    exec(compile((REPO_ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)  # noqa: S102
    return int(namespace["workers"])


@contextlib.contextmanager
def throwaway_database(data_dir: Path, database_url: str | None) -> Iterator[str]:
    """SQLite in the data folder, or a fresh PostgreSQL database beside the one named (dropped after)."""
    if not database_url:
        yield f"sqlite:///{data_dir / 'index.sqlite3'}"
        return
    with databases.throwaway_postgres(database_url, f"pyindex_bench_{secrets.token_hex(6)}") as url:
        yield url


class Index:
    def __init__(self, base: Path, database_url: str, access_log: bool = True) -> None:
        self.base = base
        self.data_dir = base / "data"
        (self.data_dir / "static").mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
        (base / "server-tmp").mkdir(exist_ok=True)
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PIP_", "UV_")) and key not in _INDEX_SETTINGS
        }
        self.env.update(
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(50),
            INDEX_DATA_DIR=str(self.data_dir),
            DATABASE_URL=database_url,
            ALLOWED_HOSTS=HOST,
            DJANGO_SETTINGS_MODULE="indexsite.settings",
            MAX_FILE_SIZE=str(MAX_FILE_SIZE),
            MAX_PROJECT_SIZE=str(4 * MAX_FILE_SIZE),
            # Upload bodies spool to the temp folder: keep them in the throw-away one.
            TMPDIR=str(base / "server-tmp"),
            # The suite's requests send no credentials: an open index (private_reads.py
            # measures reads with a token, on a server started with READ_ACCESS=authenticated).
            READ_ACCESS="public",
        )
        self.port = free_port()
        self.workers = gunicorn_workers()
        self.access_log = access_log
        self.server = self._gunicorn("gunicorn (ours)", self.port)
        self.token = ""

    def _gunicorn(self, name: str, port: int, *extra: str, env: dict[str, str] | None = None) -> Server:
        flags = [] if self.access_log else ["--access-logfile", os.devnull]  # gunicorn cannot turn one off
        command = servers.gunicorn_command(f"{HOST}:{port}", *flags, *extra)
        return Server(name, command, env or self.env, self.base / "gunicorn.log", port)

    def another_server(self, name: str, **settings: str) -> Server:
        """One more gunicorn on the same data, on a port of its own, with these settings changed
        (``READ_ACCESS="authenticated"``)."""
        return self._gunicorn(name, free_port(), env={**self.env, **settings})

    def single_worker_server(self) -> Server:
        """The same server with one worker: whose memory a big upload grows is then known."""
        return self._gunicorn("gunicorn (ours, one worker)", free_port(), "--workers", "1")

    def manage(self, *args: str) -> str:
        return run_command([sys.executable, "manage.py", *args], env=self.env)

    def task(self, *args: str, stdin: str | None = None):
        return json.loads(run_command([sys.executable, DJANGO_TASKS, *args], env=self.env, stdin=stdin) or "null")

    def seed(self, project: str, releases: int, small_projects: int) -> str:
        # The seed refuses a database with projects in it: this one is the benchmark's own.
        arguments = ["--releases", str(releases), "--small-projects", str(small_projects), "--project-name", project]
        return run_command([sys.executable, SEED, *arguments, "--with-files", "--force"], env=self.env)

    def create_uploader(self, projects: list[str]) -> None:
        owner_of = [arg for project in projects for arg in ("--owner-of", project)]
        self.token = run_command([sys.executable, DJANGO_TASKS, "create-uploader", *owner_of], env=self.env).strip()

    def start(self) -> float:
        return self.server.start(Request("/simple/"))

    @property
    def upload_path(self) -> str:
        return "/legacy/"
