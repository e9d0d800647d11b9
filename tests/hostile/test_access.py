"""What anonymous callers can read: every public endpoint, fetched for a project
whose owner has an e-mail address, a password and tokens. No account data and
no token data appear anywhere; a quarantined project's files appear nowhere.

(A release's Author-email is core metadata the uploader published, and public
on purpose; the user *account's* e-mail is not.)
"""

from __future__ import annotations

import xmlrpc.client
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from harness.dists import build_sdist, build_wheel
from harness.upload_form import Upload, form_for
from packages_app.models import File, JournalEntry, Project
from packages_app.services import projects, releases, roles, tokens
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth
from tests.hostile import checks
from tests.hostile.conftest import PASSWORD

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
CLASSIFIER = "Programming Language :: Python :: 3"


@dataclass
class Fetched:
    label: str
    status: int
    text: str  # headers and body, as text


def fetch(client, url: str, **headers) -> Fetched:
    response = client.get(url, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = "\n".join(f"{name}: {value}" for name, value in response.items()) + "\n" + body.decode("latin-1")
    return Fetched(f"GET {url} {headers or ''}", response.status_code, text)


def rpc(client, method: str, *params) -> Fetched:
    response = client.post("/pypi", xmlrpc.client.dumps(params, method, allow_none=True), content_type="text/xml")
    return Fetched(f"XML-RPC {method}{params}", response.status_code, response.content.decode("utf-8"))


def publish(client, tmp_path, auth: str, name: str, version: str, **fields) -> None:
    for build in (build_wheel, build_sdist):
        path = build(tmp_path / f"{name}-{version}-{build.__name__}", name, version)
        response = checks.send(client, Upload.of(form_for(path, name, version, **fields)), auth)
        assert response.status_code == 200, response.content


def everything_public(client, names: list[str], username: str) -> list[Fetched]:
    """Every public read of the index, for these projects and this user."""
    fetched = [
        fetch(client, "/simple/"),
        fetch(client, "/simple/", HTTP_ACCEPT=SIMPLE_JSON),
        fetch(client, "/api/v1/projects/"),
        fetch(client, "/api/v1/events/"),
        fetch(client, f"/api/v1/users/{username}/projects/"),
        fetch(client, "/api/v1/schema/"),
        fetch(client, "/api/v1/docs/"),
        fetch(client, "/admin/login/"),
        fetch(client, "/_health/"),
        rpc(client, "list_packages"),
        rpc(client, "list_packages_with_serial"),
        rpc(client, "changelog_last_serial"),
        rpc(client, "changelog_since_serial", 0),
        rpc(client, "changelog", 0, True),
        rpc(client, "browse", [CLASSIFIER]),
        rpc(client, "user_packages", username),
        rpc(client, "system.listMethods"),
        rpc(client, "system.methodHelp", "search"),
    ]
    for name in names:
        fetched += [
            fetch(client, f"/simple/{name}/"),
            fetch(client, f"/simple/{name}/", HTTP_ACCEPT=SIMPLE_JSON),
            fetch(client, f"/pypi/{name}/json"),
            fetch(client, f"/pypi/{name}/1.0/json"),
            fetch(client, f"/api/v1/projects/{name}/"),
            fetch(client, f"/api/v1/projects/{name}/releases/"),
            fetch(client, f"/api/v1/projects/{name}/releases/1.0/"),
            rpc(client, "package_releases", name, True),
            rpc(client, "release_urls", name, "1.0"),
            rpc(client, "release_data", name, "1.0"),
            rpc(client, "package_roles", name),
            rpc(client, "search", {"name": name}),
            rpc(client, "search", {"author_email": "invalid"}),
        ]
    for file in File.objects.select_related("release__project").filter(release__project__normalized_name__in=names):
        fetched += [
            fetch(client, f"/packages/{file.path}"),
            fetch(client, f"/packages/{file.path}.metadata"),
            fetch(client, f"/api/v1/files/{file.sha256_digest}/"),
        ]
    return fetched


@pytest.fixture
def published(client, tmp_path, db):
    """Widget 1.0 (wheel and sdist, uploaded with a token) owned by olivia, maintained by max.

    olivia has an e-mail address, names, a password, and four tokens: the one
    she uploads with, one limited to the project, an expired one, a revoked one.
    """
    olivia = UserFactory(
        username="olivia", email="olivia.private@corp.invalid", first_name="Olivetta", last_name="Privatesurname"
    )
    max_ = UserFactory(username="max", email="max.private@corp.invalid")
    token, plaintext = tokens.create_token(olivia, name="upload-token-label")
    publish(
        client,
        tmp_path,
        basic_auth("__token__", plaintext),
        "Widget",
        "1.0",
        author_email="author@public.invalid",
        classifiers=CLASSIFIER,
    )
    widget = Project.objects.get(normalized_name="widget")
    roles.grant_role(widget, max_, "Maintainer")
    limited, limited_plaintext = tokens.create_token(olivia, name="limited-token-label", projects=[widget])
    expired, expired_plaintext = tokens.create_token(
        olivia, name="expired-token-label", expires=timezone.now() - timedelta(days=1)
    )
    revoked, revoked_plaintext = tokens.create_token(olivia, name="revoked-token-label")
    tokens.revoke_token(revoked)
    releases.create_release(widget, "2.0.dev0", {"summary": "File-less"})
    secrets = {olivia.email, max_.email, olivia.first_name, olivia.last_name}
    for user in (olivia, max_):
        user.refresh_from_db()
        secrets |= {user.password, user.password.split("$")[-1], user.password.split("$")[-2]}
    for each, each_plaintext in [
        (token, plaintext),
        (limited, limited_plaintext),
        (expired, expired_plaintext),
        (revoked, revoked_plaintext),
    ]:
        secrets |= {each_plaintext, each_plaintext.split("_", 2)[2], each.secret_hash, each.key_id, each.name}
    return secrets


def test_no_endpoint_shows_account_or_token_data(client, published):
    fetched = everything_public(client, ["widget"], "olivia")
    assert all(each.status < 500 for each in fetched), [(each.label, each.status) for each in fetched]
    # The scene is real: these reads do show the project and its files.
    everything = "\n".join(each.text for each in fetched)
    assert "widget-1.0-py3-none-any.whl" in everything
    assert "author@public.invalid" in everything  # public core metadata, as uploaded
    leaks = [(each.label, secret) for each in fetched for secret in published if secret and secret in each.text]
    assert leaks == []


def test_token_events_are_journaled_but_never_published(client, published):
    """The journal keeps "create token <key id> for olivia" for the audit log; no feed carries it."""
    assert JournalEntry.objects.filter(action__startswith="create token").count() == 4
    feeds = [fetch(client, "/api/v1/events/"), rpc(client, "changelog_since_serial", 0), rpc(client, "changelog", 0)]
    # Events made *with* a token say so ("type": "token"), but no token event is listed.
    for words in ("create token", "revoke token", "token-created", "token-revoked"):
        assert not any(words in each.text for each in feeds), words


@pytest.fixture
def quarantined(client, tmp_path, owner):
    """hidden 1.0 (a wheel and an sdist, with a classifier), then quarantined; and a visible project."""
    auth = basic_auth("owner", PASSWORD)
    publish(client, tmp_path, auth, "hidden", "1.0", classifiers=CLASSIFIER)
    publish(client, tmp_path, auth, "visible", "1.0", classifiers=CLASSIFIER)
    files = list(File.objects.filter(release__project__normalized_name="hidden"))
    assert len(files) == 2
    projects.set_status(Project.objects.get(normalized_name="hidden"), "quarantined", "malware")
    return files


def test_a_quarantined_projects_files_appear_nowhere(client, quarantined):
    fetched = everything_public(client, ["hidden", "visible"], "owner")
    everything = "\n".join(each.text for each in fetched)
    assert "visible-1.0-py3-none-any.whl" in everything  # the same reads show a project that is not quarantined
    feeds = ("GET /api/v1/events/", "XML-RPC changelog")
    for file in quarantined:
        # What would let anyone fetch or verify the file: its URL path and digests (a request
        # that names one itself may have it echoed in its 404).
        for trace in (file.path, file.sha256_digest, file.blake2_256_digest, file.md5_digest):
            assert [each.label for each in fetched if trace in each.text and trace not in each.label] == []
        # The name itself only in the change feeds' history (mirrors must learn the project changed).
        showing_name = [each.label for each in fetched if file.filename in each.text]
        assert all(label.startswith(feeds) for label in showing_name), showing_name


def test_a_quarantined_projects_downloads_are_gone(client, quarantined):
    for file in quarantined:
        assert client.get(f"/packages/{file.path}").status_code == 404
        assert client.get(f"/packages/{file.path}.metadata").status_code == 404
        assert client.get(f"/api/v1/files/{file.sha256_digest}/").status_code == 404
    assert client.get("/pypi/hidden/json").status_code == 404
    assert client.get("/pypi/hidden/1.0/json").status_code == 404
    page = client.get("/simple/hidden/", HTTP_ACCEPT=SIMPLE_JSON).json()
    assert (page["files"], page["project-status"]["status"]) == ([], "quarantined")
    assert client.get("/api/v1/projects/hidden/releases/1.0/").json()["files"] == []
