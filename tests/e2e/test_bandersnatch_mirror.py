"""bandersnatch, the PyPA mirroring tool, mirroring this index as its master.

bandersnatch only talks to an https master, so this module runs its own gunicorn over TLS
with a throw-away self-signed certificate, and bandersnatch trusts that certificate alone
(``SSL_CERT_FILE``). Projects are published with the real twine; then ``bandersnatch
mirror`` copies the index, once from scratch and once more after one new upload, and the
mirror on disk is compared with what the index serves. What bandersnatch asked for is read
back from gunicorn's access log.

bandersnatch 6.8.0 accepts only file URLs whose path starts with ``/packages`` (as on
PyPI's file host): it maps that path into its ``web/`` folder and refuses any other ("Got
invalid download URL"). That is why the index serves its files at ``/packages/...``; the
server here runs at the root of its host, as the index is normally deployed.

Both ways bandersnatch learns what to sync are run: ``api-method = xmlrpc`` (the default:
``list_packages_with_serial`` and ``changelog_since_serial`` over ``POST /pypi``) and
``api-method = simple`` (the PEP 691 JSON project list and its per-project ``_last-serial``).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.dists import build_sdist, build_wheel, normalized_name
from harness.servers import free_port, server_environment
from tests.e2e.helpers import (
    SCRIPTS_DIR,
    Clients,
    IndexServer,
    TlsCertificate,
    isolated_environment,
    make_tls_certificate,
    throwaway_database,
)

PASSWORD = "e2e mirror battery staple"
PUBLISHER = "mirror-publisher"
MOUNT = ""  # the index at the root of its host (prefix of every path the index is asked for)
JSON_V1 = "application/vnd.pypi.simple.v1+json"
MIRROR_TIMEOUT = 60  # seconds for one ``bandersnatch mirror``
LOG_QUIET = 0.3  # seconds without a new access line: gunicorn has logged every request
LOG_WAIT = 5.0  # seconds: the longest wait for that quiet
# gunicorn.conf.py: %(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s" %({x-request-id}i)s
_ACCESS_LINE = re.compile(
    r'^\S+ "(?P<method>[A-Z]+) (?P<target>\S+) HTTP/[\d.]+" (?P<status>\d{3}) \S+ \S+ "(?P<agent>[^"]*)" \S+$'
)
# An ERROR or CRITICAL log line, or the last line of a traceback.
_LOG_ERROR = re.compile(r"^(?:\S+ \S+ (?:ERROR|CRITICAL): .*|\w+(?:Error|Exception): .*)$", re.MULTILINE)
# bandersnatch's HTML project page: one link per file.
_HTML_LINK = re.compile(
    r'<a href="(?P<href>[^"#]+)#sha256=(?P<sha256>[0-9a-f]{64})"(?P<attrs>[^>]*)>(?P<name>[^<]+)</a>'
)

ALPHA = "Mirror_Alpha"  # not in normalised form: the mirror must use "mirror-alpha"
BETA = "mirror-beta"
YANK_REASON = "broken build, use 1.0"
FILELESS = "0.5"  # a release registered without files
# The version each api-method's second sync must pick up (the server is shared by both).
NEW_BETA = {"xmlrpc": "1.1", "simple": "1.2"}


# ---------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def tls_certificate(tmp_path_factory) -> TlsCertificate:
    return make_tls_certificate(tmp_path_factory.mktemp("tls"))


@dataclass(frozen=True)
class ServerBase:
    folder: Path
    data_dir: Path
    env: dict[str, str]

    def server(self, label: str, url: str, tls: TlsCertificate, **extra_env: str) -> IndexServer:
        env = {**self.env, **extra_env}
        return IndexServer(url, env, self.data_dir, self.folder / f"gunicorn-{label}.log", tls=tls)


@pytest.fixture(scope="module")
def server_base(tmp_path_factory) -> Iterator[ServerBase]:
    """The data folder and database of this module's TLS server, migrated once."""
    folder = tmp_path_factory.mktemp("mirror-index")
    data_dir = folder / "data"
    with throwaway_database(data_dir) as database_url:
        env = server_environment(data_dir, database_url)
        env.pop("SCRIPT_NAME", None)  # the server runs at the root of its host
        base = ServerBase(folder, data_dir, env)
        # Only its manage() is used: nothing listens at this URL.
        IndexServer("https://127.0.0.1:1", env, data_dir, folder / "prepare.log").prepare()
        yield base


@pytest.fixture(scope="module")
def index_server(server_base, tls_certificate) -> Iterator[IndexServer]:
    """The index over TLS at the root of its host. Named as the session's plain-HTTP server,
    which it stands in for in this module, so a failure shows this server's log."""
    with server_base.server("tls", f"https://127.0.0.1:{free_port()}", tls_certificate).running() as server:
        yield server


# ---------------------------------------------------------------- publishing


@dataclass(frozen=True)
class Publisher:
    clients: Clients
    cert: Path
    dist_dir: Path

    def upload(self, *dists: Path) -> None:
        result = self.clients.twine("upload", "--cert", self.cert, *dists, username=PUBLISHER, password=PASSWORD)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def publisher(index_server, tls_certificate, tmp_path_factory) -> Publisher:
    """Projects published with twine (over TLS, trusting the test certificate), before any sync:

    - Mirror_Alpha: 1.0 as a wheel (with PEP 658 metadata) and an sdist, 2.0 as a wheel then
      yanked with a reason, and 0.5 registered without any file;
    - mirror-beta: 1.0 as a wheel.
    """
    index_server.shell(
        "from django.contrib.auth import get_user_model as g\n"
        f"g().objects.create_user({PUBLISHER!r}, password={PASSWORD!r})\n"
    )
    root = tmp_path_factory.mktemp("publisher")
    published = Publisher(Clients(root / "clients", index_server.url), tls_certificate.cert_path, root / "dists")
    published.upload(
        build_wheel(published.dist_dir, ALPHA, "1.0"),
        build_sdist(published.dist_dir, ALPHA, "1.0"),
        build_wheel(published.dist_dir, ALPHA, "2.0"),
        build_wheel(published.dist_dir, BETA, "1.0"),
    )
    index_server.manage("yank", ALPHA, "2.0", "--reason", YANK_REASON)
    index_server.shell(
        "from packages_app.models import Project\n"
        "from packages_app.services.releases import create_release\n"
        f"create_release(Project.objects.get(normalized_name={normalized_name(ALPHA)!r}), {FILELESS!r})\n"
    )
    return published


# ---------------------------------------------------------------- the index's side


@dataclass(frozen=True)
class IndexState:
    """What the index serves at one moment: its serial and every project's legacy JSON page."""

    serial: int
    projects: dict[str, dict]  # normalised name -> /pypi/<name>/json

    def files(self) -> dict[str, dict]:
        """URL path -> the legacy JSON entry of every file of every project."""
        found = {}
        for page in self.projects.values():
            for entries in page["releases"].values():
                for entry in entries:
                    found[urllib.parse.urlsplit(entry["url"]).path] = entry
        return found


def index_state(server: IndexServer) -> IndexState:
    response = server.get("/simple/", headers={"Accept": JSON_V1})
    assert response.status == 200, response.text
    listing = json.loads(response.body)
    projects = {}
    for project in listing["projects"]:
        name = normalized_name(project["name"])
        page = server.get(f"/pypi/{name}/json")
        assert page.status == 200, page.text
        projects[name] = json.loads(page.body)
    return IndexState(serial=listing["meta"]["_last-serial"], projects=projects)


def settled_log_size(server: IndexServer) -> int:
    """The log's size once gunicorn has logged every finished request: it writes an access
    line just after the response, so wait until no line came for LOG_QUIET seconds."""
    deadline = time.monotonic() + LOG_WAIT
    size, quiet_since = -1, time.monotonic()
    while True:
        now = time.monotonic()
        current = server.log_path.stat().st_size
        if current != size:
            size, quiet_since = current, now
        elif now - quiet_since >= LOG_QUIET or now > deadline:
            return size
        time.sleep(0.05)


def bandersnatch_requests(server: IndexServer, start: int, end: int) -> list[tuple[str, str, str]]:
    """(method, path, status) of every request bandersnatch made, logged between two offsets."""
    with open(server.log_path, "rb") as log:
        log.seek(start)
        lines = log.read(end - start).decode("utf-8", errors="replace").splitlines()
    found = []
    for line in lines:
        match = _ACCESS_LINE.match(line)
        # Its two User-Agents: "bandersnatch/6.8.0 (...)" and "bandersnatch 6.8.0 aiohttp XML-RPC client (...)".
        if match and match["agent"].startswith("bandersnatch"):
            found.append((match["method"], urllib.parse.urlsplit(match["target"]).path, match["status"]))
    return found


# ---------------------------------------------------------------- bandersnatch's side


@dataclass(frozen=True)
class MirrorState:
    """What one bandersnatch mirror folder holds."""

    status: str | None
    files: dict[str, str]  # path under web/ (as in the URL) -> sha256 of the bytes
    simple_index: dict  # web/simple/index.v1_json
    simple_html: dict[str, str]  # normalised name -> web/simple/<name>/index.html
    simple_json: dict[str, dict]  # normalised name -> web/simple/<name>/index.v1_json
    json_pages: dict[str, dict]  # normalised name -> web/json/<name>
    pypi_json_pages: dict[str, dict]  # normalised name -> web/pypi/<name>/json


@dataclass(frozen=True)
class Sync:
    """One ``bandersnatch mirror`` run: its output, the requests the index saw, the result."""

    returncode: int
    output: str
    requests: list[tuple[str, str, str]]
    index: IndexState  # the index right after the run
    mirror: MirrorState

    def errors(self) -> list[str]:
        # bandersnatch exits 0 even when packages failed; it only logs them and keeps its old serial.
        return _LOG_ERROR.findall(self.output)


class Mirror:
    """A bandersnatch configuration and folder, mirroring ``server``."""

    def __init__(self, root: Path, server: IndexServer, api_method: str) -> None:
        self.server = server
        self.directory = root / "mirror"
        self.home = root / "home"
        self.home.mkdir(parents=True)
        self.config = root / "bandersnatch.conf"
        self.config.write_text(
            "[mirror]\n"
            f"directory = {self.directory}\n"
            f"master = {server.url}\n"
            f"api-method = {api_method}\n"
            "json = true\n"
            "release-files = true\n"
            "simple-format = ALL\n"
            "hash-index = false\n"
            "workers = 2\n"
            "timeout = 10\n"
            f"global-timeout = {MIRROR_TIMEOUT}\n"
            "stop-on-error = false\n"
        )

    @property
    def env(self) -> dict[str, str]:
        env = isolated_environment(self.home)
        # aiohttp verifies with ssl.create_default_context(), which reads this: the test
        # certificate is the only one trusted.
        env["SSL_CERT_FILE"] = str(self.server.tls.cert_path)
        return env

    def sync(self) -> Sync:
        start = settled_log_size(self.server)
        result = subprocess.run(
            [str(SCRIPTS_DIR / "bandersnatch"), "--config", str(self.config), "mirror"],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=MIRROR_TIMEOUT,
            check=False,
        )
        requests = bandersnatch_requests(self.server, start, settled_log_size(self.server))
        return Sync(
            returncode=result.returncode,
            output=result.stdout + result.stderr,
            requests=requests,
            index=index_state(self.server),
            mirror=self.state(),
        )

    def state(self) -> MirrorState:
        web = self.directory / "web"
        simple = web / "simple"
        status = self.directory / "status"
        files = {}
        packages = web / "packages"  # bandersnatch's fixed place for files: web/ + the URL path
        for path in sorted(packages.rglob("*")) if packages.exists() else ():
            if path.is_file():
                files["/" + path.relative_to(web).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
        projects = sorted(path.name for path in simple.iterdir() if path.is_dir()) if simple.exists() else []
        index_page = simple / "index.v1_json"
        return MirrorState(
            status=status.read_text().strip() if status.exists() else None,
            files=files,
            simple_index=json.loads(index_page.read_text()) if index_page.exists() else {},
            simple_html={name: (simple / name / "index.html").read_text() for name in projects},
            simple_json={name: json.loads((simple / name / "index.v1_json").read_text()) for name in projects},
            json_pages={path.name: json.loads(path.read_text()) for path in sorted((web / "json").glob("*"))},
            pypi_json_pages={
                path.parent.name: json.loads(path.read_text()) for path in sorted((web / "pypi").glob("*/json"))
            },
        )


def local_target(page_dir: str, href: str) -> str:
    """The URL path a relative link on a mirrored project page points at (the page is at
    ``/simple/<name>/`` of the mirror's web root)."""
    return urllib.parse.urljoin(page_dir, href)


def expected_requests(api_method: str, names: list[str], files: list[str], file_status: str) -> Counter:
    """One way of listing projects, one legacy JSON page per project, one GET per file
    (answered with the file, or on S3 with a redirect to the store)."""
    if api_method == "xmlrpc":
        wanted = [("POST", f"{MOUNT}/pypi", "200")]  # list_packages_with_serial or changelog_since_serial
    else:
        # bandersnatch asks for <master>/simple, which is redirected to /simple/ (as on PyPI).
        wanted = [("GET", f"{MOUNT}/simple", "301"), ("GET", f"{MOUNT}/simple/", "200")]
    wanted += [("GET", f"{MOUNT}/pypi/{name}/json", "200") for name in names]
    wanted += [("GET", path, file_status) for path in files]
    return Counter(wanted)


# ---------------------------------------------------------------- the two syncs


@dataclass(frozen=True)
class SyncRuns:
    api_method: str
    first: Sync
    second: Sync
    new_file: str  # URL path of the file uploaded between the two syncs


@pytest.fixture(scope="module", params=["xmlrpc", "simple"])
def syncs(request, index_server, publisher, tmp_path_factory) -> SyncRuns:
    """A sync from scratch, one new upload (a new mirror-beta release), and a second sync."""
    api_method = request.param
    mirror = Mirror(tmp_path_factory.mktemp(f"bandersnatch-{api_method}"), index_server, api_method)
    first = mirror.sync()
    wheel = build_wheel(publisher.dist_dir, BETA, NEW_BETA[api_method])
    publisher.upload(wheel)
    second = mirror.sync()
    new_file = next(path for path, entry in second.index.files().items() if entry["filename"] == wheel.name)
    return SyncRuns(api_method, first, second, new_file)


# ---------------------------------------------------------------- first sync


def test_publishing_made_what_the_mirror_tests_expect(index_server, publisher):
    """The setup itself: a PEP 658 wheel, an sdist, a yanked release, a release without files."""
    state = index_state(index_server)
    alpha = state.projects[normalized_name(ALPHA)]["releases"]
    by_name = {entry["filename"]: entry for entries in alpha.values() for entry in entries}
    assert alpha[FILELESS] == []
    assert set(by_name["mirror_alpha-1.0-py3-none-any.whl"]["core-metadata"]) == {"sha256"}
    assert by_name["mirror_alpha-1.0.tar.gz"]["packagetype"] == "sdist"
    assert by_name["mirror_alpha-2.0-py3-none-any.whl"]["yanked"] is True
    assert by_name["mirror_alpha-2.0-py3-none-any.whl"]["yanked_reason"] == YANK_REASON
    assert all(path.startswith(f"{MOUNT}/packages/") for path in state.files())


def test_first_sync_succeeds_with_one_request_per_page_and_file(syncs, index_server):
    first = syncs.first
    assert first.returncode == 0, first.output[-3000:]
    assert first.errors() == []
    names = sorted(first.index.projects)
    expected = expected_requests(syncs.api_method, names, sorted(first.index.files()), index_server.file_status)
    assert Counter(first.requests) == expected


def test_first_sync_copies_every_file_with_its_sha256(syncs):
    index, mirror = syncs.first.index, syncs.first.mirror
    assert mirror.files == {path: entry["digests"]["sha256"] for path, entry in index.files().items()}


def test_first_sync_records_the_index_serial(syncs):
    index, mirror = syncs.first.index, syncs.first.mirror
    assert mirror.status == str(index.serial)
    assert mirror.status == str(max(page["last_serial"] for page in index.projects.values()))


def test_first_sync_writes_the_project_list(syncs):
    index, mirror = syncs.first.index, syncs.first.mirror
    assert [project["name"] for project in mirror.simple_index["projects"]] == sorted(index.projects)
    assert sorted(mirror.simple_html) == sorted(mirror.simple_json) == sorted(index.projects)


def test_first_sync_writes_simple_pages_listing_the_right_files(syncs):
    """Both forms of every project page list exactly the project's files, with sha256, and
    link to the mirrored copies; the yank (and its reason, in HTML) is carried over."""
    index, mirror = syncs.first.index, syncs.first.mirror
    for name, page in index.projects.items():
        entries = {entry["filename"]: entry for files in page["releases"].values() for entry in files}
        page_dir = f"/simple/{name}/"

        listed = {file["filename"]: file for file in mirror.simple_json[name]["files"]}
        assert sorted(listed) == sorted(entries), name
        for filename, file in listed.items():
            entry = entries[filename]
            assert file["hashes"] == {"sha256": entry["digests"]["sha256"]}
            assert file["yanked"] is entry["yanked"]
            target = local_target(page_dir, file["url"])
            assert mirror.files[target] == entry["digests"]["sha256"], filename

        links = {match["name"]: match for match in _HTML_LINK.finditer(mirror.simple_html[name])}
        assert sorted(links) == sorted(entries), name
        for filename, link in links.items():
            entry = entries[filename]
            assert link["sha256"] == entry["digests"]["sha256"]
            assert mirror.files[local_target(page_dir, link["href"])] == entry["digests"]["sha256"]
            yank_attribute = f' data-yanked="{entry["yanked_reason"]}"' if entry["yanked"] else ""
            assert link["attrs"] == yank_attribute, filename

    alpha = {file["filename"]: file["yanked"] for file in mirror.simple_json[normalized_name(ALPHA)]["files"]}
    assert alpha == {
        "mirror_alpha-1.0-py3-none-any.whl": False,
        "mirror_alpha-1.0.tar.gz": False,
        "mirror_alpha-2.0-py3-none-any.whl": True,
    }


def test_first_sync_saves_the_legacy_json_as_served(syncs):
    """``web/json/<name>`` (and its copy ``web/pypi/<name>/json``) is the index's page, release
    without files included."""
    index, mirror = syncs.first.index, syncs.first.mirror
    assert mirror.json_pages == index.projects
    assert mirror.pypi_json_pages == index.projects
    assert mirror.json_pages[normalized_name(ALPHA)]["releases"][FILELESS] == []


# ---------------------------------------------------------------- second sync


def test_second_sync_fetches_only_the_change(syncs, index_server):
    """After one new file of mirror-beta, bandersnatch asks what changed, reads mirror-beta's
    page and downloads the new file: nothing of Mirror_Alpha, no file it already has."""
    second = syncs.second
    assert second.returncode == 0, second.output[-3000:]
    assert second.errors() == []
    expected = expected_requests(syncs.api_method, [BETA], [syncs.new_file], index_server.file_status)
    assert Counter(second.requests) == expected


def test_second_sync_adds_the_new_file_and_keeps_the_rest(syncs):
    first, second = syncs.first, syncs.second
    sha256 = second.index.files()[syncs.new_file]["digests"]["sha256"]
    assert second.mirror.files == {**first.mirror.files, syncs.new_file: sha256}
    assert second.mirror.files == {path: entry["digests"]["sha256"] for path, entry in second.index.files().items()}
    assert second.mirror.status == str(second.index.serial)
    assert int(second.mirror.status) > int(first.mirror.status)


def test_second_sync_updates_the_changed_project_and_leaves_the_other_alone(syncs):
    first, second = syncs.first, syncs.second
    alpha = normalized_name(ALPHA)
    assert second.mirror.simple_html[alpha] == first.mirror.simple_html[alpha]
    assert second.mirror.simple_json[alpha] == first.mirror.simple_json[alpha]
    assert second.mirror.json_pages[alpha] == first.mirror.json_pages[alpha]
    beta_files = [file["filename"] for file in second.mirror.simple_json[BETA]["files"]]
    assert f"mirror_beta-{NEW_BETA[syncs.api_method]}-py3-none-any.whl" in beta_files
    assert second.mirror.json_pages[BETA] == second.index.projects[BETA]
