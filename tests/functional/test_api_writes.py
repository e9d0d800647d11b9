"""The metadata API's writes over HTTP: who may register, yank and set status, what they may send, what changes."""

from __future__ import annotations

import base64
import json

import pytest

from packages_app.models import JournalEntry, Project, Release
from packages_app.services import projects, releases, roles, tokens
from tests.factories import ProjectFactory, UserFactory
from tests.functional.problems import assert_problem
from tests.functional.upload_client import basic_auth, publish

API = "/api/v1"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def widget(client, tmp_path, db):
    """Project 'Widget' 1.0 (uploaded by its Owner olivia), Maintainer max, and a project 'other'."""
    olivia = UserFactory(username="olivia")
    UserFactory(username="sam")
    publish(client, tmp_path, "Widget", "1.0", auth=basic_auth("olivia", PASSWORD))
    project = Project.objects.get(normalized_name="widget")
    roles.grant_role(project, UserFactory(username="max"), "Maintainer")
    other = ProjectFactory(name="other")
    roles.grant_role(other, olivia, "Owner")
    return Project.objects.get(pk=project.pk)


def bearer(username: str, *limited_to: str) -> str:
    user = UserFactory(username=username)
    scope = [Project.objects.get(normalized_name=name) for name in limited_to]
    _token, plaintext = tokens.create_token(user, name="api", projects=scope)
    return f"Bearer {plaintext}"


def token_basic(username: str) -> str:
    _token, plaintext = tokens.create_token(UserFactory(username=username))
    return "Basic " + base64.b64encode(f"__token__:{plaintext}".encode()).decode()


# Who calls: a name for the test id, and how their Authorization header is made.
CALLERS = {
    "owner": lambda: bearer("olivia"),
    "owner-basic-token": lambda: token_basic("olivia"),
    "owner-password": lambda: basic_auth("olivia", PASSWORD),
    "owner-token-for-widget": lambda: bearer("olivia", "widget"),
    "maintainer": lambda: bearer("max"),
    "stranger": lambda: bearer("sam"),
    "owner-token-for-other": lambda: bearer("olivia", "other"),
    "superuser": lambda: bearer(UserFactory(username="root", is_superuser=True, is_staff=True).username),
    "anonymous": lambda: None,
}


def post(client, url: str, payload, auth: str | None):
    extra = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return client.post(url, json.dumps(payload), content_type="application/json", **extra)


def simple_page(client, name: str = "widget") -> dict:
    response = client.get(f"/simple/{name}/", HTTP_ACCEPT=SIMPLE_JSON)
    assert response.status_code == 200
    return response.json()


class Journal:
    """The serial before a write, to see what the write journaled."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.before = JournalEntry.objects.last_serial()

    def new_entries(self) -> list[tuple[str, str]]:
        entries = JournalEntry.objects.filter(id__gt=self.before).exclude(name="").order_by("id")
        return [(entry.action, entry.version) for entry in entries]

    def assert_moved(self, action: str, version: str = "") -> None:
        assert self.new_entries() == [(action, version)]
        newest = JournalEntry.objects.exclude(name="").latest("id")
        assert newest.name == self.project.name
        assert Project.objects.get(pk=self.project.pk).last_serial == newest.id

    def assert_still(self) -> None:
        assert self.new_entries() == []
        assert Project.objects.get(pk=self.project.pk).last_serial == self.project.last_serial


# ---------------------------------------------------------------- register a release


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("owner", 201),
        ("owner-basic-token", 201),
        ("owner-password", 401),  # a password uploads through /legacy/ only
        ("owner-token-for-widget", 201),
        ("maintainer", 201),
        ("superuser", 201),
        ("stranger", 403),
        ("owner-token-for-other", 403),
        ("anonymous", 401),
    ],
)
def test_register_release_permissions(client, widget, caller, status):
    """Owners and Maintainers may register a release; others are refused and nothing changes."""
    auth = CALLERS[caller]()
    before = Journal(widget)
    payload = {"version": "2.0", "summary": "Second", "requires_python": ">=3.10"}
    response = post(client, f"{API}/projects/widget/releases/", payload, auth)
    assert "no-store" in response["Cache-Control"]
    if status != 201:
        problem = assert_problem(response, status)
        if status == 401:
            assert response["WWW-Authenticate"].startswith("Bearer")
        else:
            assert "widget" in problem["detail"].lower()
        before.assert_still()
        assert not Release.objects.filter(version="2.0").exists()
        assert simple_page(client)["versions"] == ["1.0"]
        return
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["version"], data["summary"], data["requires_python"]) == ("2.0", "Second", ">=3.10")
    assert (data["files"], data["yanked"], data["project"]) == ([], False, "Widget")
    assert client.get(f"{API}/projects/widget/releases/2.0/").json() == data
    before.assert_moved("new release", "2.0")
    assert simple_page(client)["versions"] == ["1.0", "2.0"]
    listed = client.get(f"{API}/projects/widget/releases/").json()["results"]
    assert [(r["version"], r["file_count"]) for r in listed] == [("2.0", 0), ("1.0", 1)]


def test_register_release_with_full_metadata(client, widget):
    """Every accepted field is stored and served; files can be uploaded to the release later."""
    payload = {
        "version": "3.0b1",
        "summary": "Beta",
        "description": "Some *text*.",
        "description_content_type": "text/markdown",
        "requires_python": ">=3.11",
        "requires_dist": ["requests>=2", "rich; extra == 'cli'"],
        "classifiers": ["Programming Language :: Python :: 3", "Development Status :: 4 - Beta"],
        "project_urls": {"Source": "https://example.invalid/src"},
    }
    response = post(client, f"{API}/projects/widget/releases/", payload, CALLERS["owner"]())
    assert response.status_code == 201, response.content
    data = client.get(f"{API}/projects/widget/releases/3.0b1/").json()
    assert {key: data[key] for key in payload} == payload
    assert data["is_prerelease"] is True


def test_uploads_land_on_a_registered_release(client, tmp_path, widget):
    """A release registered without files takes an upload later; its file count moves."""
    assert post(client, f"{API}/projects/widget/releases/", {"version": "4.0"}, CALLERS["owner"]()).status_code == 201
    publish(client, tmp_path, "Widget", "4.0", auth=basic_auth("olivia", PASSWORD))
    listed = client.get(f"{API}/projects/widget/releases/?files=with").json()["results"]
    assert [(r["version"], r["file_count"]) for r in listed] == [("4.0", 1), ("1.0", 1)]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"version": "not a version"}, "version"),
        ({"version": ""}, "version"),
        ({}, "version"),
        ({"version": "1.0+local"}, "local"),
        ({"version": "2.0", "requires_python": ">=3.x"}, "python"),
        ({"version": "2.0", "requires_python": "3.10"}, "python"),
        ({"version": "2.0", "classifiers": ["Made Up :: Classifier"]}, "classifier"),
        ({"version": "2.0", "classifiers": "Programming Language :: Python"}, "classifiers"),
        ({"version": "2.0", "requires_dist": ["not a requirement !!"]}, "requires"),
        ({"version": "2.0", "requires_dist": ["foo @ https://example.invalid/foo.whl"]}, "direct dependency"),
        ({"version": "2.0", "project_urls": {"Source": "not a url"}}, "project_urls"),
        ({"version": "2.0", "project_urls": {"x" * 40: "https://example.invalid/"}}, "label"),
        ({"version": "2.0", "summary": "two\nlines"}, "summary"),
        ({"version": "2.0", "summary": "s" * 513}, "summary"),
        ({"version": "2.0", "description_content_type": "text/unknown"}, "content"),
        (["2.0"], "dictionary"),
    ],
)
def test_register_release_bad_input(client, widget, payload, field):
    """Invalid metadata is a 400 problem with 'errors' naming the trouble; nothing is written."""
    before = Journal(widget)
    response = post(client, f"{API}/projects/widget/releases/", payload, CALLERS["owner"]())
    problem = assert_problem(response, 400)
    assert "errors" in problem
    assert field.lower() in json.dumps(problem["errors"]).lower()
    before.assert_still()
    assert list(widget.releases.values_list("version", flat=True)) == ["1.0"]


def test_register_release_malformed_json(client, widget):
    """A body that is not JSON is a 400 problem."""
    response = client.post(
        f"{API}/projects/widget/releases/",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=CALLERS["owner"](),
    )
    assert_problem(response, 400)


@pytest.mark.parametrize("version", ["1.0", "1.0.0", "1", "v1.0"])
def test_register_existing_version_conflicts(client, widget, version):
    """A version equal in canonical form to an existing release is a 409."""
    before = Journal(widget)
    response = post(client, f"{API}/projects/widget/releases/", {"version": version}, CALLERS["owner"]())
    assert assert_problem(response, 409)["detail"] == "Widget already has a release 1.0."  # the existing one
    before.assert_still()
    assert widget.releases.count() == 1


@pytest.mark.parametrize(("status", "allowed"), [("archived", False), ("quarantined", False), ("deprecated", True)])
def test_register_release_respects_project_status(client, widget, status, allowed):
    """PEP 792: archived and quarantined projects accept no new releases; deprecated ones do."""
    projects.set_status(widget, status, "")
    widget.refresh_from_db()
    before = Journal(widget)
    response = post(client, f"{API}/projects/widget/releases/", {"version": "5.0"}, CALLERS["owner"]())
    if allowed:
        assert response.status_code == 201, response.content
        before.assert_moved("new release", "5.0")
    else:
        assert status in assert_problem(response, 403)["detail"]
        before.assert_still()


def test_register_release_unknown_project(client, widget):
    """A release for a project that does not exist is a 404; no project is created."""
    response = post(client, f"{API}/projects/no-such/releases/", {"version": "1.0"}, CALLERS["owner"]())
    assert_problem(response, 404)
    assert not Project.objects.filter(normalized_name="no-such").exists()


@pytest.mark.parametrize(
    "auth",
    ["Bearer pyidx_not-a-real-token", "Basic " + base64.b64encode(b"olivia:wrong").decode(), "Digest abc"],
)
def test_bad_credentials_are_401(client, widget, auth):
    """Wrong credentials are refused with 401 and a challenge, even where a read would need none."""
    before = Journal(widget)
    response = post(client, f"{API}/projects/widget/releases/", {"version": "2.0"}, auth)
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    before.assert_still()


def test_session_cookie_is_not_a_credential(client, widget):
    """A logged-in admin session does not authorise API writes (so no cross-site request can use it)."""
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    before = Journal(widget)
    assert_problem(post(client, f"{API}/projects/widget/releases/1.0/yank/", {}, None), 401)
    assert_problem(post(client, f"{API}/projects/widget/releases/", {"version": "2.0"}, None), 401)
    before.assert_still()


def test_revoked_token_is_401(client, widget):
    """A revoked token no longer writes."""
    token, plaintext = tokens.create_token(UserFactory(username="olivia"))
    tokens.revoke_token(token)
    response = post(client, f"{API}/projects/widget/releases/", {"version": "2.0"}, f"Bearer {plaintext}")
    assert "revoked" in assert_problem(response, 401)["detail"]


# ---------------------------------------------------------------- yank and unyank


MANAGE_CASES = [
    ("owner", 200),
    ("owner-password", 401),
    ("owner-basic-token", 200),
    ("owner-token-for-widget", 200),
    ("superuser", 200),
    ("maintainer", 403),
    ("stranger", 403),
    ("owner-token-for-other", 403),
    ("anonymous", 401),
]
# Whoever may publish a release may take it back: Maintainers yank too (issue #23).
YANK_CASES = [(caller, 200 if caller == "maintainer" else status) for caller, status in MANAGE_CASES]


@pytest.mark.parametrize(("caller", "status"), YANK_CASES)
def test_yank_permissions(client, widget, caller, status):
    """Owners, Maintainers and superusers yank; the yank shows in the API, the journal and the simple page."""
    auth = CALLERS[caller]()
    before = Journal(widget)
    response = post(client, f"{API}/projects/widget/releases/1.0/yank/", {"reason": "broken <build>"}, auth)
    assert "no-store" in response["Cache-Control"]
    if status != 200:
        assert_problem(response, status)
        before.assert_still()
        assert Release.objects.get(version="1.0").yanked is False
        assert simple_page(client)["files"][0]["yanked"] is False
        return
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["yanked"], data["yanked_reason"]) == (True, "broken <build>")
    assert [(f["yanked"], f["yanked_reason"]) for f in data["files"]] == [(True, "broken <build>")]
    assert client.get(f"{API}/projects/widget/releases/1.0/").json() == data
    before.assert_moved("yank release", "1.0")
    assert simple_page(client)["files"][0]["yanked"] == "broken <build>"


@pytest.mark.parametrize(("caller", "status"), YANK_CASES)
def test_unyank_permissions(client, widget, caller, status):
    """Owners, Maintainers and superusers undo a yank; the simple page follows."""
    releases.yank_release(widget.releases.get(), "oops")
    widget.refresh_from_db()
    auth = CALLERS[caller]()
    before = Journal(widget)
    response = post(client, f"{API}/projects/widget/releases/1.0/unyank/", {}, auth)
    if status != 200:
        assert_problem(response, status)
        before.assert_still()
        assert simple_page(client)["files"][0]["yanked"] == "oops"
        return
    assert response.status_code == 200, response.content
    assert (response.json()["yanked"], response.json()["yanked_reason"]) == (False, "")
    before.assert_moved("unyank release", "1.0")
    assert simple_page(client)["files"][0]["yanked"] is False


def test_yank_without_reason(client, widget):
    """A reason is optional; the simple page then says just ``true``."""
    response = post(client, f"{API}/projects/widget/releases/1.0/yank/", {}, CALLERS["owner"]())
    assert response.status_code == 200, response.content
    assert (response.json()["yanked"], response.json()["yanked_reason"]) == (True, "")
    assert simple_page(client)["files"][0]["yanked"] is True


@pytest.mark.parametrize("version", ["1.0.0", "1"])
def test_yank_finds_the_canonical_version(client, widget, version):
    """``1.0.0`` yanks release 1.0."""
    response = post(client, f"{API}/projects/widget/releases/{version}/yank/", {"reason": "x"}, CALLERS["owner"]())
    assert response.status_code == 200, response.content
    assert response.json()["version"] == "1.0"
    assert Release.objects.get(version="1.0").yanked is True


@pytest.mark.parametrize("action", ["yank", "unyank"])
def test_yank_unknown_release_or_project(client, widget, action):
    """An unknown release or project is a 404 problem; nothing is written."""
    before = Journal(widget)
    assert_problem(post(client, f"{API}/projects/widget/releases/9.9/{action}/", {}, CALLERS["owner"]()), 404)
    assert_problem(post(client, f"{API}/projects/nope/releases/1.0/{action}/", {}, CALLERS["owner"]()), 404)
    before.assert_still()


def test_yank_reason_must_be_text(client, widget):
    """A reason that is not a string is a 400 problem with errors."""
    response = post(client, f"{API}/projects/widget/releases/1.0/yank/", {"reason": {"a": 1}}, CALLERS["owner"]())
    assert "reason" in assert_problem(response, 400)["errors"]
    assert Release.objects.get(version="1.0").yanked is False


# ---------------------------------------------------------------- project status


@pytest.mark.parametrize(("caller", "status"), MANAGE_CASES)
def test_status_permissions(client, widget, caller, status):
    """Only Owners (and superusers) set a project's status; it shows on the simple page."""
    auth = CALLERS[caller]()
    before = Journal(widget)
    response = post(client, f"{API}/projects/widget/status/", {"status": "deprecated", "reason": "use gadget"}, auth)
    assert "no-store" in response["Cache-Control"]
    if status != 200:
        assert_problem(response, status)
        before.assert_still()
        assert simple_page(client)["project-status"] == {"status": "active"}
        return
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["status_reason"], data["normalized_name"]) == ("deprecated", "use gadget", "widget")
    before.assert_moved("set status deprecated")
    assert data["last_serial"] == Project.objects.get(pk=widget.pk).last_serial
    assert simple_page(client)["project-status"] == {"status": "deprecated", "reason": "use gadget"}


@pytest.mark.parametrize("payload", [{"status": "gone"}, {"status": ""}, {}, {"status": "ACTIVE"}, {"reason": "x"}])
def test_invalid_status(client, widget, payload):
    """Only PEP 792 statuses are accepted."""
    before = Journal(widget)
    response = post(client, f"{API}/projects/widget/status/", payload, CALLERS["owner"]())
    assert "status" in assert_problem(response, 400)["errors"]
    before.assert_still()


def test_quarantine_through_the_api(client, widget):
    """Staff quarantining hides files from the simple page and refuses new releases, until staff lift it."""
    owner, staff = CALLERS["owner"](), CALLERS["superuser"]()
    assert post(client, f"{API}/projects/widget/status/", {"status": "quarantined"}, staff).status_code == 200
    assert simple_page(client)["files"] == []
    assert post(client, f"{API}/projects/widget/releases/", {"version": "2.0"}, owner).status_code == 403
    assert post(client, f"{API}/projects/widget/status/", {"status": "active"}, owner).status_code == 403
    assert simple_page(client)["files"] == []
    assert post(client, f"{API}/projects/widget/status/", {"status": "active"}, staff).status_code == 200
    assert len(simple_page(client)["files"]) == 1
    assert post(client, f"{API}/projects/widget/releases/", {"version": "2.0"}, owner).status_code == 201


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", f"{API}/projects/widget/releases/1.0/yank/"),
        ("put", f"{API}/projects/widget/status/"),
        ("post", f"{API}/projects/"),
        ("delete", f"{API}/projects/widget/releases/1.0/"),
    ],
)
def test_wrong_methods_are_405(client, widget, method, url):
    """Writes are POST only and reads are read-only; the refusal is a problem and changes nothing."""
    before = Journal(widget)
    response = getattr(client, method)(url, HTTP_AUTHORIZATION=CALLERS["owner"]())
    assert_problem(response, 405)
    before.assert_still()
