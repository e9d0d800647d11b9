"""docs/deploy.md and the README's production section, followed word for word.

Every fenced block (or table) after a ``<!-- checked: KIND [LABEL] -->`` comment is used here:

- ``install``: run once, in a fresh copy of the repository (its tracked files);
- ``env LABEL``: the environment file of a set-up; the test writes it as shown, except the
  values it must own (:data:`OWNED`): secret key, database, storage, cache, folders, bind
  address. Every variable in it must be one the README documents;
- ``run``, ``run once``, ``run each``: commands run with bash (once per app server for ``each``);
- ``serve``: the long-running server command, started in the background (per app server);
- ``probe``: commands run against a started server, with its port for ``8000``;
- ``unit``: a systemd unit, whose ExecStart must be the ``serve`` command;
- ``backup LABEL``: run once the set-up has data; what it writes must exist;
- ``cache-headers``: a table of paths and the ``Cache-Control`` each sends, compared with
  the real responses.

Blocks belong to the set-up of the latest ``env`` block before them.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness import s3
from harness.dists import build_wheel
from harness.loopback import http_get
from harness.servers import free_port
from tests import services
from tests.e2e.helpers import REPO_ROOT, _throwaway_postgres

DOCS = {"deploy": REPO_ROOT / "docs" / "deploy.md", "readme": REPO_ROOT / "README.md"}
MARKER = re.compile(r"^<!-- checked: (?P<kind>[a-z-]+)(?: (?P<label>[a-z-]+))? -->\n", re.MULTILINE)
FENCE = re.compile(r"```[a-z]*\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
DOC_PORT = "8000"
HOST = "pypi.example.com"
# Requests through "the proxy": the public host name, and TLS already terminated.
PROXIED = {"Host": HOST, "X-Forwarded-Proto": "https"}
# The variables whose values the test must choose itself; every other line is used as written.
OWNED = {
    "SECRET_KEY",
    "INDEX_DATA_DIR",
    "DATABASE_URL",
    "FILE_STORAGE",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "REDIS_URL",
    "BIND",
}
STEP_TIMEOUT = 300
STARTUP_TIMEOUT = 30


@dataclass
class Block:
    kind: str
    label: str | None
    text: str
    source: str


@dataclass
class SetUp:
    env: dict[str, str]
    blocks: list[Block] = field(default_factory=list)

    def of(self, kind: str, label: str | None = None) -> list[Block]:
        return [block for block in self.blocks if block.kind == kind and (label is None or block.label == label)]


def checked_blocks(path: Path) -> list[Block]:
    text = path.read_text()
    blocks = []
    for marker in MARKER.finditer(text):
        if text.startswith("|", marker.end()):  # a table: its lines up to the first other one
            rest = text[marker.end() :].splitlines()
            body = "\n".join(line for line in itertools.takewhile(lambda line: line.startswith("|"), rest))
        else:
            fence = FENCE.match(text, marker.end())
            assert fence, f"{path.name}: no fenced block or table right after {marker.group(0).strip()}"
            body = fence["body"]
        blocks.append(Block(marker["kind"], marker["label"], body, path.name))
    return blocks


def set_ups(blocks: list[Block]) -> dict[str, SetUp]:
    found: dict[str, SetUp] = {}
    current = None
    for block in blocks:
        if block.kind == "env":
            current = found.setdefault(block.label, SetUp(parse_env(block.text)))
        elif block.kind == "install":
            continue
        else:
            assert current is not None, f"{block.source}: a {block.kind} block before any env block"
            current.blocks.append(block)
    return found


def parse_env(text: str) -> dict[str, str]:
    env = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    return env


def documented_variables() -> set[str]:
    """The variables in the README's configuration table."""
    readme = DOCS["readme"].read_text()
    section = readme[readme.index("## Configuration") :]
    section = section[: section.index("\n## ", 1)]
    rows = re.findall(r"^\|([^|]+)\|", section, re.MULTILINE)
    return {name for row in rows for name in re.findall(r"`([A-Z0-9_]+)`", row)}


DEPLOY = set_ups(checked_blocks(DOCS["deploy"]))
README = set_ups(checked_blocks(DOCS["readme"]))


# ---------------------------------------------------------------- running the documented commands


def doc_environment() -> dict[str, str]:
    """The shell an operator has: this machine's, without the test run's own settings."""
    from harness.servers import INDEX_SETTINGS

    dropped = INDEX_SETTINGS | {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"}
    dropped |= {"INDEX_DATA_DIR", "VIRTUAL_ENV", "PYTHONPATH", "BIND"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    # The test's own virtualenv must not be what `python3` finds.
    scripts = str(Path(shutil.which("python") or "").parent)
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep) if part != scripts)
    return env


def run_block(block: Block, workdir: Path, port: str | None = None) -> subprocess.CompletedProcess[str]:
    script = block.text if port is None else block.text.replace(DOC_PORT, port)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=workdir,
        env=doc_environment(),
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
    )
    assert result.returncode == 0, (
        f"{block.source} {block.kind} block failed:\n{script}\n{result.stdout}{result.stderr}"
    )
    return result


def write_env_file(workdir: Path, documented: dict[str, str], owned: dict[str, str]) -> None:
    unknown = sorted(set(documented) - documented_variables())
    assert not unknown, f"variables in the documented environment file that the README does not list: {unknown}"
    missing = sorted(set(owned) - set(documented) - {"CACHE_KEY_PREFIX"})
    assert not missing, f"the test sets {missing}, which the documented file does not have"
    lines = [f"{name}={owned.get(name, value)}" for name, value in documented.items()]
    lines += [f"{name}={value}" for name, value in owned.items() if name not in documented]
    path = workdir / "pyindex.env"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


@contextlib.contextmanager
def served(block: Block, workdir: Path, log_path: Path, port: str) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", block.text],
            cwd=workdir,
            env=doc_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert process.poll() is None, f"the server exited:\n{log_path.read_text(errors='replace')[-3000:]}"
            with contextlib.suppress(OSError):
                if http_get(f"{url}/_health/", timeout=2).status == 200:
                    break
            assert time.monotonic() < deadline, f"no answer:\n{log_path.read_text(errors='replace')[-3000:]}"
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def import_a_project(workdir: Path, dists: Path, name: str) -> None:
    build_wheel(dists, name, "1.0")
    command = f"set -a; . ./pyindex.env; set +a; .venv/bin/python manage.py import_dists {shlex.quote(str(dists))}"
    run_block(Block("run", None, command, "test"), workdir)


def json_lines(log_path: Path) -> list[dict]:
    lines = []
    for line in log_path.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            lines.append(json.loads(line))
    return lines


def reader_credentials(workdir: Path) -> dict[str, str]:
    """The header of a read-only token, made with the documented command (reads are private)."""
    command = (
        "set -a; . ./pyindex.env; set +a; .venv/bin/python manage.py shell -c "
        "\"from django.contrib.auth.models import User; User.objects.get_or_create(username='reader')\"; "
        ".venv/bin/python manage.py create_token reader --read-only"
    )
    token = run_block(Block("run", None, command, "test"), workdir).stdout.strip().splitlines()[-1]
    return {"Authorization": "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()}


def check_production_behaviour(url: str, name: str, env: dict[str, str], reader: dict[str, str]) -> dict:
    """https only behind the proxy, the real host name only, reads for credentials only;
    returns the project's JSON page."""
    redirected = http_get(f"{url}/simple/", headers={"Host": HOST})
    assert (redirected.status, redirected.headers["Location"]) == (301, f"https://{HOST}/simple/")
    assert http_get(f"{url}/simple/", headers={"Host": "intruder.example", "X-Forwarded-Proto": "https"}).status == 400
    assert http_get(f"{url}/simple/{name}/", headers=PROXIED).status == 401
    headers = {**PROXIED, **reader, "Accept": "application/vnd.pypi.simple.v1+json"}
    page = http_get(f"{url}/simple/{name}/", headers=headers)
    assert page.status == 200, page.text
    document = json.loads(page.body)
    base = env.get("PUBLIC_BASE_URL", "")
    assert document["files"][0]["url"].startswith(f"{base}/packages/"), document["files"][0]["url"]
    return document


def check_cache_headers(table: Block, url: str, name: str, file_path: str, reader: dict[str, str]) -> None:
    concrete = {
        "/simple/": "/simple/",
        "/packages/<path>": file_path,
        "/pypi/<project>/json": f"/pypi/{name}/json",
        "/api/v1/...": "/api/v1/projects/",
        "/_health/": "/_health/",
        "/admin/...": "/admin/login/",
    }
    settings_now = {"<SIMPLE_MAX_AGE>": "0", "<API_MAX_AGE>": "0"}
    rows = [line for line in table.text.splitlines() if line.startswith("| `")]
    assert rows, "no rows in the cache-header table"
    for row in rows:
        path_cell, cache_cell = (cell.strip() for cell in row.strip("|").split("|")[:2])
        documented_path = re.findall(r"`([^`]+)`", path_cell)[0]
        assert documented_path in concrete, f"the test does not know how to request {documented_path!r}"
        expected = re.findall(r"`([^`]+)`", cache_cell)[0]
        for placeholder, value in settings_now.items():
            expected = expected.replace(placeholder, value)
        response = http_get(url + concrete[documented_path], headers={**PROXIED, **reader})
        if response.status == 302:  # a file on S3: the index's own answer is the redirect
            assert documented_path == "/packages/<path>"
            continue
        assert response.status == 200, (documented_path, response.status, response.text[:300])
        assert response.headers.get("Cache-Control") == expected, (documented_path, response.headers)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh copy of the repository's tracked files, installed by the documented install block."""
    workdir = tmp_path_factory.mktemp("deploy") / "pyindex"
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout.split("\0")
    for relative in filter(None, tracked):
        source = REPO_ROOT / relative
        if source.is_file():
            (workdir / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, workdir / relative)
    (install,) = [block for block in checked_blocks(DOCS["deploy"]) if block.kind == "install"]
    run_block(install, workdir)
    return workdir


# ---------------------------------------------------------------- tests


def test_every_checked_block_is_used_by_these_tests():
    kinds = {"run", "serve", "probe", "unit", "backup", "cache-headers"}
    for set_up in [*DEPLOY.values(), *README.values()]:
        for block in set_up.blocks:
            assert block.kind in kinds, f"{block.source}: unknown checked block kind {block.kind!r}"
    assert set(DEPLOY) == {"one-machine", "many-machines"}
    assert set(README) == {"one-machine"}


def test_the_systemd_unit_runs_the_documented_serve_command():
    set_up = DEPLOY["one-machine"]
    (unit,) = set_up.of("unit")
    (serve,) = set_up.of("serve")
    exec_start = re.search(r"^ExecStart=/bin/sh -c '(?P<command>.*)'$", unit.text, re.MULTILINE)
    assert exec_start, unit.text
    assert exec_start["command"] == "; ".join(serve.text.strip().splitlines())


@pytest.mark.parametrize("doc", ["deploy", "readme"])
def test_one_machine_as_documented(doc, installed, tmp_path):
    set_up = (DEPLOY if doc == "deploy" else README)["one-machine"]
    data_dir = tmp_path / "data"
    port = str(free_port())
    write_env_file(
        installed,
        set_up.env,
        {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "INDEX_DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir / 'index.sqlite3'}",
            "BIND": f"127.0.0.1:{port}",
        },
    )
    for block in set_up.of("run"):
        run_block(block, installed)
    name = f"deploy-{doc}"
    import_a_project(installed, tmp_path / "dists", name)
    reader = reader_credentials(installed)

    log_path = tmp_path / "server.log"
    (serve,) = set_up.of("serve")
    with served(serve, installed, log_path, port) as url:
        for block in set_up.of("probe"):
            assert '"status": "ok"' in run_block(block, installed, port).stdout
        document = check_production_behaviour(url, name, set_up.env, reader)
        for table in set_up.of("cache-headers"):
            file_path = urllib.parse.urlsplit(document["files"][0]["url"]).path
            check_cache_headers(table, url, name, file_path, reader)
        for block in set_up.of("backup"):
            run_block(block, installed)
    if set_up.env.get("LOG_FORMAT") == "json":
        access = [line for line in json_lines(log_path) if line.get("logger") == "gunicorn.access"]
        assert any(line["path"] == "/_health/" and line["status"] == 200 for line in access), access[-5:]
    if set_up.of("backup"):
        backups = installed / "backups"
        assert (backups / "index.sqlite3").stat().st_size > 0
        assert (backups / "files.tar.gz").stat().st_size > 0


def test_many_machines_as_documented(installed, tmp_path):
    services.require("PostgreSQL", "Redis")
    set_up = DEPLOY["many-machines"]
    with s3.moto_server() as endpoint, _throwaway_postgres(services.POSTGRES_URL) as database:
        shared = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": database,
            **s3.storage_environment(endpoint, s3.new_bucket(endpoint, "pyindex-deploy")),
            "REDIS_URL": services.REDIS_URL,
            # Not in the documented file: keeps this test's pages apart from any other user of that Redis.
            "CACHE_KEY_PREFIX": f"deploy-{secrets.token_hex(4)}",
        }
        ports = [str(free_port()), str(free_port())]
        # Each app server is an install of its own in real life; here they share the code and
        # take turns with the environment file, which a server reads only when it starts.
        servers = [tmp_path / f"server-{index}" for index in range(2)]
        (once,) = set_up.of("run", "once")
        (each,) = set_up.of("run", "each")
        (serve,) = set_up.of("serve")

        def configure(index: int) -> None:
            owned = {**shared, "INDEX_DATA_DIR": str(servers[index]), "BIND": f"127.0.0.1:{ports[index]}"}
            write_env_file(installed, set_up.env, owned)

        configure(0)
        run_block(once, installed)
        name = "deploy-many"
        import_a_project(installed, tmp_path / "dists", name)
        reader = reader_credentials(installed)
        with contextlib.ExitStack() as stack:
            urls = []
            for index in range(2):
                configure(index)
                run_block(each, installed)
                urls.append(
                    stack.enter_context(served(serve, installed, tmp_path / f"server-{index}.log", ports[index]))
                )
                for block in set_up.of("probe"):
                    assert '"cache": "ok"' in run_block(block, installed, ports[index]).stdout
            for url in urls:
                document = check_production_behaviour(url, name, set_up.env, reader)
                file_path = urllib.parse.urlsplit(document["files"][0]["url"]).path
                download = http_get(url + file_path, headers={**PROXIED, **reader})
                assert download.status == 302, download.text  # S3_DOWNLOADS=redirect
                assert http_get(download.headers["Location"]).status == 200
            for block in set_up.of("backup", "many-machines"):
                run_block(block, installed)
        assert (installed / "backups" / "index.pgdump").stat().st_size > 0
