"""docs/clients.md, followed word for word with the real twine, uv, pip and poetry.

Every fenced block after a ``<!-- checked: KIND [ARGUMENT] -->`` comment is used, in the
page's order, against a server of this module's own:

- ``run [LABEL]``: run with bash, before the "Installing" section in the documented
  project's folder, from there on in another (a consumer's: a project made there must not
  become part of ``demo``); a labelled block's outcome is checked too (:data:`OUTCOMES`);
- ``file PATH``: written to PATH (``~`` is the throw-away home), ``append PATH``: appended.

The server is private (``READ_ACCESS=authenticated``, the default), so every read
block carries the token. Only the index URL (with or without the token in it, and the host
of the netrc entry) and the token are replaced. Each block runs in an environment built
from nothing (:func:`tests.e2e.helpers.isolated_environment`: a throw-away home, no
PIP_*/UV_* variables but ``PIP_CONFIG_FILE`` set to nothing, so no configuration of this
machine is read), with a fresh virtual environment active, and with a proxy that does not
exist for every host but 127.0.0.1, so that no client can reach outside this machine.
The pip on the PATH is the test environment's pip (26, for ``--uploaded-prior-to``) run
against that virtual environment.

The index holds the documented project ``demo``: 1.0 imported with an upload time a month
ago, 2.0 built from the folder by the page's own first block (with a ``Private :: Do Not
Upload`` classifier and ``import-names``, so uv's build backend writes Metadata 2.5).
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.dists import build_wheel
from tests.e2e.helpers import REPO_ROOT, SCRIPTS_DIR, IndexServer, isolated_environment, started_index_server
from tests.e2e.test_deploy_docs import FENCE

DOC = REPO_ROOT / "docs" / "clients.md"
DOC_HOST = "pypi.example.com"
DOC_URL = f"https://{DOC_HOST}"
DOC_TOKEN = "pyidx_..."
MARKER = re.compile(r"^<!-- checked: (?P<kind>run|file|append)(?: (?P<argument>\S+))? -->\n", re.MULTILINE)
STEP_TIMEOUT = 180
MONTH = 30 * 24 * 3600
# Nothing listens on port 9 (discard); clients that honour the proxy variables fail fast there.
NOWHERE = "http://127.0.0.1:9"

DEMO_PYPROJECT = """\
[project]
name = "demo"
version = "2.0"
description = "The project docs/clients.md publishes"
requires-python = ">=3.9"
classifiers = ["Private :: Do Not Upload"]
import-names = ["demo"]

[build-system]
requires = ["uv_build>=0.8,<1"]
build-backend = "uv_build"
"""


@dataclass
class Block:
    kind: str
    argument: str | None
    text: str
    publishing: bool  # before the "Installing" section: runs in the published project's folder


def checked_blocks(path: Path = DOC) -> list[Block]:
    text = path.read_text()
    installing = text.index("\n## Installing")
    blocks = []
    for marker in MARKER.finditer(text):
        fence = FENCE.match(text, marker.end())
        assert fence, f"{path.name}: no fenced block right after {marker.group(0).strip()}"
        blocks.append(Block(marker["kind"], marker["argument"], fence["body"], marker.start() < installing))
    return blocks


@dataclass
class Scene:
    server: IndexServer
    root: Path
    project: Path
    consumer: Path
    home: Path
    token: str
    shims: Path
    venvs: list[Path]

    def concrete(self, text: str) -> str:
        host = urllib.parse.urlsplit(self.server.url).netloc
        text = text.replace(f"https://__token__:{DOC_TOKEN}@{DOC_HOST}", f"http://__token__:{self.token}@{host}")
        text = text.replace(DOC_URL, self.server.url).replace(DOC_TOKEN, self.token)
        # A netrc entry names the host alone (no scheme, no port).
        return text.replace(f"machine {DOC_HOST} ", f"machine {urllib.parse.urlsplit(self.server.url).hostname} ")

    @property
    def credentials(self) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"__token__:{self.token}".encode()).decode()}

    def new_venv(self) -> Path:
        venv = self.root / f"venv-{len(self.venvs)}"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
        self.venvs.append(venv)
        return venv

    def environment(self, venv: Path) -> dict[str, str]:
        env = isolated_environment(self.home)
        env.update(
            PATH=os.pathsep.join([str(self.shims), str(venv / "bin"), env["PATH"]]),
            VIRTUAL_ENV=str(venv),
            PIP_CONFIG_FILE=os.devnull,
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
            HTTP_PROXY=NOWHERE,
            HTTPS_PROXY=NOWHERE,
            http_proxy=NOWHERE,
            https_proxy=NOWHERE,
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            COLUMNS="200",
            NO_COLOR="1",
        )
        return env

    def run(self, block: Block) -> tuple[subprocess.CompletedProcess[str], Path]:
        venv = self.new_venv()
        script = self.concrete(block.text)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=self.project if block.publishing else self.consumer,
            env=self.environment(venv),
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
        )
        assert result.returncode == 0, f"docs/clients.md block failed:\n{script}\n{result.stdout}{result.stderr}"
        return result, venv

    def write(self, block: Block) -> None:
        argument = block.argument or ""
        path = self.home / argument[2:] if argument.startswith("~/") else self.project / argument
        path.parent.mkdir(parents=True, exist_ok=True)
        text = self.concrete(block.text)
        if block.kind == "append":
            text = path.read_text() + "\n" + text
        path.write_text(text)


def installed_version(venv: Path) -> str:
    code = "import importlib.metadata as m; print(m.version('demo'))"
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


def locked_version(lock: Path) -> str:
    found = re.search(r'^name = "demo"\nversion = "([^"]+)"', lock.read_text(), re.MULTILINE)
    assert found, lock.read_text()
    return found.group(1)


def check_uv_cooldown(scene: Scene, result, venv: Path) -> None:
    assert installed_version(venv) == "1.0"


def check_pip_cooldown(scene: Scene, result, venv: Path) -> None:
    assert installed_version(venv) == "1.0"


def check_poetry_cooldown(scene: Scene, result, venv: Path) -> None:
    assert locked_version(scene.consumer / "poetry-cool" / "poetry.lock") == "1.0"


def check_uv_project(scene: Scene, result, venv: Path) -> None:
    lock = (scene.consumer / "app" / "uv.lock").read_text()
    assert 'name = "demo"\nversion = "2.0"\nsource = { registry = "' + scene.server.url in lock, lock


def check_poetry_project(scene: Scene, result, venv: Path) -> None:
    assert locked_version(scene.consumer / "poetry-app" / "poetry.lock") == "2.0"


def check_check_url(scene: Scene, result, venv: Path) -> None:
    # Both runs find both files there already (the blocks before uploaded them) and skip them.
    assert result.stderr.count("already exists, skipping") == 4, result.stderr


# What a labelled block must have done, beyond exiting 0.
OUTCOMES: dict[str, Callable] = {
    "uv-project": check_uv_project,
    "poetry-project": check_poetry_project,
    "check-url": check_check_url,
    "uv-cooldown": check_uv_cooldown,
    "pip-cooldown": check_pip_cooldown,
    "poetry-cooldown": check_poetry_cooldown,
}


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> Scene:
    root = tmp_path_factory.mktemp("client-docs")
    # A private index, as installed by default: every documented read must carry the token.
    with started_index_server(root / "server", extra_env={"READ_ACCESS": "authenticated"}) as server:
        server.shell(
            "from django.contrib.auth import get_user_model as g\n"
            "g().objects.filter(username='alice').exists() or g().objects.create_user('alice', password='x' * 20)\n"
        )
        old = root / "history"
        wheel = build_wheel(old, "demo", "1.0")
        month_ago = time.time() - MONTH
        os.utime(wheel, (month_ago, month_ago))
        output = server.manage("import_dists", str(old), "--upload-time-from-mtime", "--owner", "alice")
        assert "Imported 1," in output, output
        token = server.manage("create_token", "alice", "--project", "demo", "--name", "client-docs").strip()
        project = root / "demo"
        (project / "src" / "demo").mkdir(parents=True)
        (project / "src" / "demo" / "__init__.py").write_text('__version__ = "2.0"\n')
        (project / "pyproject.toml").write_text(DEMO_PYPROJECT)
        shims = root / "bin"
        shims.mkdir()
        for tool in ("twine", "uv", "poetry"):
            (shims / tool).symlink_to(SCRIPTS_DIR / tool)
        # The test environment's pip, installing into whichever virtual environment is active.
        (shims / "pip").write_text(
            f'#!/bin/sh\nexec {sys.executable} -m pip --python "$VIRTUAL_ENV/bin/python" '
            '--disable-pip-version-check "$@"\n'
        )
        (shims / "pip").chmod(0o755)
        consumer = root / "consumer"
        consumer.mkdir()
        yield Scene(server, root, project, consumer, root / "home", token, shims, [])


def test_the_page_has_checked_blocks_of_every_client():
    text = "\n".join(block.text for block in checked_blocks() if block.kind == "run")
    for command in ("twine upload", "uv publish", "poetry publish", "pip install", "uv pip install", "poetry add"):
        assert command in text, command
    labels = {block.argument for block in checked_blocks() if block.kind == "run" and block.argument}
    assert labels == set(OUTCOMES)


def test_every_checked_block_works_as_documented(scene):
    for block in checked_blocks():
        if block.kind in ("file", "append"):
            scene.write(block)
            continue
        result, venv = scene.run(block)
        if block.argument:
            OUTCOMES[block.argument](scene, result, venv)
    files = scene.server.shell(
        "from packages_app.models import File\n"
        "print(sorted(File.objects.filter(release__project__normalized_name='demo')"
        ".values_list('filename', flat=True)))"
    )
    assert "demo-2.0-py3-none-any.whl" in files
    assert "demo-2.0.tar.gz" in files
    assert scene.server.get("/simple/demo/").status == 401
    release = scene.server.get("/api/v1/projects/demo/releases/2.0/", headers=scene.credentials)
    assert '"Private :: Do Not Upload"' in release.text
    assert '"metadata_version":"2.5"' in release.text.replace(" ", "")
