"""The index under a real gunicorn, for end-to-end tests and benchmarks: its environment, its
``manage.py``, start, wait until it answers, stop.

Each caller keeps its own server class (how it starts and stops, its errors) on :class:`ManagedIndex`;
what they share is here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness import s3
from harness.loopback import HttpResponse, http_get

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMAND_TIMEOUT = 120
# Small enough that an oversize upload needs only a few megabytes.
SMALL_MAX_FILE_SIZE = 2 * 1024**2

# The index's own settings: a developer's values must not redirect a test or
# benchmark server to their files, bucket or cache.
INDEX_SETTINGS = {
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_STATEMENT_TIMEOUT_MS",
    "FILE_STORAGE",
    "FILES_ROOT",
    "REDIS_URL",
    "PUBLIC_BASE_URL",
    "STATIC_ROOT",
    "LOG_LEVEL",
    "ADMIN_USERNAME",
    "ADMIN_PASSWORD",
    "ADMIN_EMAIL",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_PUBLIC_BASE_URL",
    "S3_DOWNLOADS",
    "CACHE_KEY_PREFIX",
    "PRODUCTION",
    "BEHIND_TLS_PROXY",
    "LOG_FORMAT",
    "AUTH_FAILURE_LIMIT",
    "AUTH_LOCKOUT_SECONDS",
    "TRUSTED_PROXY_COUNT",
    "HSTS_SECONDS",
    "SIMPLE_DEFAULT_COOLDOWN",  # would hide fresh uploads from every test's /simple/
    "UPSTREAM_INDEX_URL",  # would send every test's unknown names to a developer's upstream
    "UPSTREAM_BLOCKED_PREFIXES",
    "UPSTREAM_ALLOWED_PROJECTS",
    "UPSTREAM_PAGE_TTL",
    "UPSTREAM_TIMEOUT_SECONDS",
    "UPSTREAM_MAX_PAGE_BYTES",
    "UPSTREAM_COOLDOWN",  # would hide a test upstream's fresh files
    "UPSTREAM_COOLDOWN_EXEMPT_PROJECTS",
    "UPSTREAM_NOT_AFTER",
    "COOLDOWN_EXEMPT_PROJECTS",
    "ALLOW_DIRECT_URL_DEPENDENCIES",
    "ALLOW_UNKNOWN_CLASSIFIERS",
    "ALLOW_UNSUPPORTED_PLATFORM_TAGS",
    "CLOSE_RELEASES_AFTER_DAYS",
    "GUNICORN_CMD_ARGS",  # gunicorn reads extra flags from it
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "TLS_CERT_FILE",  # gunicorn.conf.py would serve https
    "TLS_KEY_FILE",
    "READ_ACCESS",
    "NEW_PROJECT_VISIBILITY",
    "CREDENTIALS_CACHE_SECONDS",
}

# For a script run by ``ManagedIndex.shell``: ``stored(path)`` is a stored file's [sha256 hex digest, size],
# read through the index's storage (local disk or S3); None when it is not there.
STORED_DIGEST_CODE = """
import hashlib
from packages_app.storage import package_storage

storage = package_storage()

def stored(path):
    if not storage.exists(path):
        return None
    digest, size = hashlib.sha256(), 0
    with storage.open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return [digest.hexdigest(), size]
"""


def gunicorn_command(bind: str, *flags: str) -> list[str]:
    """The index served as ``./scripts/serve`` does (the checkout's gunicorn.conf.py: run it from there),
    bound to ``bind``; ``flags`` override the file."""
    return [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", bind, *flags, "indexsite.wsgi"]


def start_in_session(command: list[str], *, cwd: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start ``command``, its output appended to ``log_path``, in a session of its own: a master
    and its workers can then be killed together (the group id is the master's pid)."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own commands, fixed arguments
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_until_answering(
    process: subprocess.Popen, is_ready: Callable[[], bool], timeout: float, interval: float = 0.1
) -> str | None:
    """Ask ``is_ready`` until it says yes (None), the process exits or ``timeout`` seconds pass (why not, in words).

    Connection errors count as not ready yet: a server refuses, resets or times out while it boots.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"exited with {process.returncode}"
        with contextlib.suppress(OSError):
            if is_ready():
                return None
        time.sleep(interval)
    return f"did not answer within {timeout:g}s"


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process's whole group; the group id stays reserved while any member lives."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def stop_group(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM to the master (graceful: it waits for its workers), then SIGKILL to what is left; never raises."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    kill_group(process)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_environment() -> dict[str, str]:
    """Storage and cache settings for a server that follow this test run's.

    On an S3 run the server gets a bucket of its own on the run's S3 server; on a
    run with Redis, its own key prefix there (test databases reuse serials, and pages
    are keyed by serial).
    """
    env = {}
    endpoint = s3.run_endpoint()
    if endpoint:
        env.update(s3.storage_environment(endpoint, s3.new_bucket(endpoint, "pyindex-e2e")))
    if os.environ.get("REDIS_URL"):
        env.update(REDIS_URL=os.environ["REDIS_URL"], CACHE_KEY_PREFIX=f"e2e-{secrets.token_hex(4)}")
    return env


def server_environment(data_dir: Path, database_url: str) -> dict[str, str]:
    """The production settings on ``data_dir`` and ``database_url``, with ``SMALL_MAX_FILE_SIZE``:
    this machine's environment without the index's own settings or the clients' PIP_*/UV_*."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_")) and key not in INDEX_SETTINGS
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        INDEX_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # pytest-django exported tests.settings; the server runs the real settings.
        DJANGO_SETTINGS_MODULE="indexsite.settings",
        MAX_FILE_SIZE=str(SMALL_MAX_FILE_SIZE),
        # Open reads, as the suite's older servers were written for; the private index's
        # own tests (tests/e2e/test_private_index.py) start theirs with READ_ACCESS=authenticated.
        READ_ACCESS="public",
    )
    env.update(stack_environment())
    return env


@dataclass
class ManagedIndex:
    """An index's settings and data folder, its ``manage.py`` and its gunicorn log; subclasses start and stop it."""

    url: str
    env: dict[str, str]
    data_dir: Path
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def manage(self, *args: str, input: str | None = None, extra_env: Mapping[str, str] | None = None) -> str:
        """Run ``manage.py`` in the server's environment; return stdout, raise with stderr on failure."""
        result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env={**self.env, **(extra_env or {})},
            input=input,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result.stdout

    def shell(self, code: str) -> str:
        # Verbosity 0 keeps Django 5.2's "N objects imported automatically" banner out of stdout.
        return self.manage("shell", "--verbosity", "0", "-c", code)

    def log_tail(self, n: int = 50) -> str:
        if not self.log_path.exists():
            return "(no gunicorn log)"
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """The certificates an https server may present; None for http."""
        return None

    def get(self, path: str, *, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return http_get(self.url + path, headers=headers, ssl_context=self.ssl_context)

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput", "--verbosity", "0")
