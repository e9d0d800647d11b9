"""``./scripts/serve`` as the README gives it: it ends its start-up with a summary, every
``manage.py`` command then works with the server's settings, and bad settings are one line."""

from __future__ import annotations

import base64
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.loopback import http_get
from harness.servers import free_port
from tests.e2e.helpers import REPO_ROOT, STARTUP_TIMEOUT

# The embedded default: none of this run's stack settings reach the script.
_STACK = {"DATABASE_URL", "FILE_STORAGE", "REDIS_URL", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DEBUG"}
ADMIN_PASSWORD = "correct-horse-battery-staple-7"  # noqa: S105 - a throw-away admin's


def script_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _STACK
        and key != "READ_ACCESS"  # the default: a private index
        and not key.startswith(("PIP_", "UV_", "ADMIN_", "S3_", "GUNICORN", "TLS_"))
    }
    # The scripts use .venv (a fresh clone installs it); this run's interpreter is that venv's.
    env.update(INDEX_DATA_DIR=str(data_dir), WEB_CONCURRENCY="1", **extra)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_serve_summary_then_manage_py_with_the_same_settings(tmp_path):
    port = free_port()
    data_dir = tmp_path / "data"
    env = script_environment(data_dir, PORT=str(port), ADMIN_USERNAME="admin", ADMIN_PASSWORD=ADMIN_PASSWORD)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["./scripts/serve"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            umask=0o022,  # the usual one: what the script makes owner-only, it makes so itself
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT * 4  # migrations and collectstatic first
        while "uv publish" not in log.read_text() and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            time.sleep(0.2)
        printed = log.read_text()
        url = f"http://127.0.0.1:{port}/"
        assert f"The package index is up at {url}" in printed, printed
        assert f"Admin:    {url}admin/ (signs in: admin)" in printed
        assert f"Data:     {data_dir}" in printed
        with_token = f"http://__token__:TOKEN@127.0.0.1:{port}/simple/"
        assert f"pip install --index-url {with_token} NAME" in printed
        assert f"uv pip install --index-url {with_token} NAME" in printed
        assert f"twine upload --repository-url {url}legacy/ -u __token__ -p TOKEN dist/*" in printed
        # The summary closes the start-up: gunicorn's own lines come before it.
        assert printed.index("Listening at") < printed.index("The package index is up at")
        assert http_get(f"{url}simple/").status == 401  # private by default

        # The key the script made is in the data folder, readable by its owner only, and
        # manage.py finds it there: no SECRET_KEY in the environment, no traceback.
        key_file = data_dir / "secret-key"
        assert key_file.stat().st_mode & 0o077 == 0
        # So are the folder and the database (issue 16, item 13).
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((data_dir / "index.sqlite3").stat().st_mode) == 0o600
        token = manage(script_environment(data_dir), "create_token", "admin")
        assert token.returncode == 0, token.stderr
        assert "pyidx_" in token.stdout
        credentials = base64.b64encode(f"__token__:{token.stdout.strip()}".encode()).decode()
        assert http_get(f"{url}simple/", headers={"Authorization": f"Basic {credentials}"}).status == 200
        assert manage(script_environment(data_dir), "check").returncode == 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_serving_other_machines_without_allowed_hosts_explains_itself(tmp_path):
    env = script_environment(tmp_path / "data", HOST="0.0.0.0", PORT=str(free_port()))  # noqa: S104
    finished = subprocess.run(["./scripts/serve"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 2
    assert "HOST=0.0.0.0 serves other machines" in finished.stderr
    assert "Set ALLOWED_HOSTS to those names" in finished.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was set up


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MAX_FILE_SIZE", "a lot", "MAX_FILE_SIZE='a lot': Not a size: give bytes as a whole number"),
        ("PRODUCTION", "ture", "PRODUCTION='ture': Not a valid boolean."),
        ("AUTH_FAILURE_LIMIT", "ten", "AUTH_FAILURE_LIMIT='ten': Not a valid integer."),
        ("FILE_STORAGE", "nfs", "FILE_STORAGE='nfs': Must be one of: local, s3."),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(tmp_path, variable, value, expected):
    finished = manage(script_environment(tmp_path, DEBUG="true", **{variable: value}), "check")
    assert finished.returncode == 1
    assert finished.stdout == ""
    assert finished.stderr.startswith("Configuration error: Invalid environment variables: ")
    assert expected in finished.stderr
    assert "Traceback" not in finished.stderr
    assert finished.stderr.count("\n") == 1


def test_sizes_take_units(tmp_path):
    shown = manage(
        script_environment(tmp_path, DEBUG="true", MAX_FILE_SIZE="100MiB", MAX_PROJECT_SIZE="20GB"),
        "shell",
        "-c",
        "from django.conf import settings; print(settings.MAX_FILE_SIZE, settings.MAX_PROJECT_SIZE)",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split()[-2:] == [str(100 * 2**20), str(20 * 10**9)]
