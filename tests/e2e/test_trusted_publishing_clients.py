"""Trusted publishing end to end (issue 22): a CI job's OIDC token exchanged by a real client.

Nothing leaves 127.0.0.1. ``harness.oidc_issuer`` is the CI's issuer (discovery document and
JWKS from an RSA key made for this run) and its ID-token request endpoint, which a GitHub
Actions job reaches through ``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN``. The index under gunicorn
trusts that issuer through ``TRUSTED_PUBLISHING_ISSUERS``, and a GitHub-kind publisher of a
project (``manage.py add_trusted_publisher PROJECT --kind github --issuer <its URL> --claim ...``)
names the issuer with the claims a real workflow's token carries.

The client is ``uv publish --trusted-publishing always`` itself: this uv (0.13.8) takes any publish URL
for it, asks ``https://<publish host>/_/oidc/audience``, requests the job's ID token for that
audience, posts it to ``https://<publish host>/_/oidc/mint-token`` and uploads with the minted
token. It always asks those two over https (whatever the publish URL's scheme), as the publish
action's exchange code does, so the index here serves TLS itself with a throw-away certificate
that uv trusts through ``SSL_CERT_FILE``. When the exchange refuses, uv prints the index's
answer (``Response: {...}``) in the job's log: those are the messages tested here.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.dists import build_wheel
from harness.oidc_issuer import OidcIssuer, github_claims, unverified_claims
from harness.servers import free_port, server_environment
from tests.e2e.helpers import Clients, IndexServer, make_tls_certificate, throwaway_database

AUDIENCE = "pyidx-e2e-audience"
PASSWORD = "e2e correct horse battery"
OWNER_ID = "1234567"
WORKFLOW = "release.yml"
ENVIRONMENT = "release"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcIssuer]:
    """The CI's OIDC issuer, trusted by the index."""
    with OidcIssuer() as issuer:
        yield issuer


@pytest.fixture(scope="module")
def stranger() -> Iterator[OidcIssuer]:
    """Another issuer minting the very same claims, which the index was never told to trust."""
    with OidcIssuer() as issuer:
        yield issuer


@pytest.fixture(autouse=True)
def fresh_issuers(issuer: OidcIssuer, stranger: OidcIssuer) -> Iterator[None]:
    """What a test changes on the issuers (claims, clock, a replayed token) ends with it."""
    saved = [(each, dict(each.claims)) for each in (issuer, stranger)]
    yield
    for each, claims in saved:
        each.claims = claims
        each.issued_offset = 0
        each.serve_token = None


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory):
    return make_tls_certificate(tmp_path_factory.mktemp("tp-tls"))


@pytest.fixture(scope="module")
def index_server(tmp_path_factory: pytest.TempPathFactory, issuer: OidcIssuer, certificate) -> Iterator[IndexServer]:
    """The index over TLS (uv asks the exchange endpoints over https only), trusting ``issuer``.

    Named ``index_server`` so that the ``clients`` fixture points at it and a failure shows its log.
    """
    base = tmp_path_factory.mktemp("tp-index")
    data_dir = base / "data"
    with throwaway_database(data_dir) as database_url:
        env = server_environment(data_dir, database_url)
        env.update(TRUSTED_PUBLISHING_ISSUERS=issuer.url, TRUSTED_PUBLISHING_AUDIENCE=AUDIENCE)
        server = IndexServer(
            url=f"https://127.0.0.1:{free_port()}",
            env=env,
            data_dir=data_dir,
            log_path=base / "gunicorn.log",
            tls=certificate,
        )
        server.prepare()
        server.ensure_user("alice", PASSWORD)
        with server.running():
            yield server


@pytest.fixture(scope="module")
def exchange(index_server: IndexServer) -> IndexServer:
    """The index, when it has the exchange endpoints; the tests needing them skip otherwise."""
    if index_server.get("/_/oidc/audience").status == 404:
        pytest.skip("this index has no trusted publishing yet: GET /_/oidc/audience answers 404")
    return index_server


@pytest.fixture
def ci(clients: Clients, certificate) -> Clients:
    """The clients, plus what uv needs to reach the index over TLS: its certificate, nothing else.

    And a wide terminal, so uv prints the index's answer on one line.
    """
    clients.env.update(SSL_CERT_FILE=str(certificate.cert_path), COLUMNS="100000")
    return clients


def in_job(clients: Clients, issuer: OidcIssuer) -> Clients:
    """The clients inside a GitHub Actions job whose ID tokens come from ``issuer``."""
    clients.env.update(issuer.actions_env())
    return clients


def trusted_publish(clients: Clients, server: IndexServer, *dists: Path):
    return clients.uv("publish", "--trusted-publishing", "always", "--publish-url", f"{server.url}/legacy/", *dists)


def create_project(clients: Clients, server: IndexServer, dist_dir: Path, name: str) -> None:
    """``name`` made by alice's own upload (with her password, no trusted publishing): she is its Owner."""
    wheel = build_wheel(dist_dir / "first", name, "0.1")
    result = clients.uv(
        "publish", "--trusted-publishing", "never", "--publish-url", f"{server.url}/legacy/",
        "-u", "alice", "-p", PASSWORD, wheel,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def add_github_publisher(
    server: IndexServer, project: str, issuer: OidcIssuer, repository: str, *extra: str, **claims: str
) -> str:
    """A GitHub-kind publisher of ``project`` whose tokens come from ``issuer``, as an operator's script adds it."""
    rules = {"repository": repository, "repository_owner_id": OWNER_ID, "workflow": WORKFLOW, **claims}
    options = [f"--claim={name}={value}" for name, value in rules.items()]
    return server.manage("add_trusted_publisher", project, "--kind", "github", "--issuer", issuer.url, *options, *extra)


def published_files(server: IndexServer, project: str) -> list[str]:
    out = server.shell(
        "from packages_app.models import File\n"
        f"print(sorted(File.objects.filter(release__project__name={project!r}).values_list('filename', flat=True)))"
    )
    return eval(out.strip())  # noqa: S307 - a list of strings printed by our own shell


def refusal(result) -> dict:
    """The index's answer to a refused exchange, as uv prints it in the job's log."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Failed to obtain token for trusted publishing" in output, output
    found = re.search(r"Response: (\{.*?\})\s*\n\s*Token claims", output, re.DOTALL)
    assert found, output
    # Should uv still wrap it: a wrapped line goes on after a newline and the indentation.
    return json.loads(re.sub(r"\n\s+", " ", found.group(1)))


def problem_says(problem: dict, code: str, *fragments: str) -> None:
    """An RFC 9457 problem carrying PyPI's ``errors`` list, whose first entry is ``code`` and says ``fragments``."""
    assert problem["status"] >= 400, problem
    first = problem["errors"][0]
    assert first["code"] == code, problem
    for fragment in fragments:
        assert fragment in first["description"], problem
        assert fragment in problem["detail"], problem


def job_of(issuer: OidcIssuer, repository: str) -> None:
    """The next ID tokens of ``issuer`` are those of a job of ``repository`` running release.yml in "release"."""
    issuer.claims = github_claims(repository=repository, repository_owner_id=OWNER_ID, workflow=WORKFLOW)


@pytest.fixture
def project(exchange, ci, dist_dir, issuer, stranger) -> str:
    """A project of alice's with a GitHub publisher: acme/<project>'s release.yml, environment release.

    Each test has its own repository, so no other test's publisher matches its jobs' tokens; the
    issuers' next tokens are that repository's job's.
    """
    name = unique("tp")
    create_project(ci, exchange, dist_dir, name)
    add_github_publisher(exchange, name, issuer, f"acme/{name}", environment=ENVIRONMENT)
    job_of(issuer, f"acme/{name}")
    job_of(stranger, f"acme/{name}")
    return name


# ---------------------------------------------------------------- the exchange


def test_audience_is_the_configured_one(exchange):
    response = exchange.get("/_/oidc/audience")
    assert response.status == 200
    assert json.loads(response.body) == {"audience": AUDIENCE}


def test_uv_publishes_with_trusted_publishing(exchange, ci, dist_dir, issuer, project):
    wheel = build_wheel(dist_dir, project, "1.0")
    result = trusted_publish(in_job(ci, issuer), exchange, wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    assert wheel.name in published_files(exchange, project)
    # uv asked the job's ID token for the index's audience, with the job's request token...
    (request,) = issuer.id_token_requests()[-1:]
    assert f"audience={AUDIENCE}" in request.path
    assert request.authorization == f"Bearer {issuer.request_token}"
    assert unverified_claims(issuer.issued[-1])["aud"] == AUDIENCE
    # ...and the index checked it against the issuer's published key.
    assert issuer.hits("/.well-known/openid-configuration")
    assert issuer.hits("/jwks")
    # The minted token is short-lived, held by the publisher, never by a person.
    held = exchange.shell(
        "from packages_app.models import ApiToken\n"
        f"t = ApiToken.objects.filter(trusted_publisher__project__name={project!r}).get()\n"
        "print(t.user_id, t.expires is not None, sorted(p.name for p in t.projects.all()))"
    )
    assert held.split(maxsplit=2) == ["None", "True", f"[{project!r}]\n"]
    # The file's record in the metadata API names the workload that uploaded it.
    response = exchange.get(f"/api/v1/files/{hashlib.sha256(wheel.read_bytes()).hexdigest()}/")
    assert response.status == 200, response.text
    described = f"GitHub Actions acme/{project}, workflow {WORKFLOW}, environment {ENVIRONMENT}"
    assert json.loads(response.body)["trusted_publisher"] == described


def test_wrong_repository_is_refused(exchange, ci, dist_dir, issuer, project):
    job_of(issuer, f"evil/{project}")  # a fork, say
    result = trusted_publish(in_job(ci, issuer), exchange, build_wheel(dist_dir, project, "1.0"))
    problem_says(refusal(result), "invalid-publisher", "No trusted publisher", f"'evil/{project}'")
    assert published_files(exchange, project) == [f"{project.replace('-', '_')}-0.1-py3-none-any.whl"]


def test_another_owner_with_the_same_repository_name_is_refused(exchange, ci, dist_dir, issuer, project):
    """The owner renamed and someone else took the name: the repository matches, its owner id does not."""
    issuer.claims["repository_owner_id"] = "7654321"
    result = trusted_publish(in_job(ci, issuer), exchange, build_wheel(dist_dir, project, "1.0"))
    problem_says(refusal(result), "invalid-publisher", "repository_owner_id", f"'{OWNER_ID}'", "'7654321'")


def test_another_workflow_is_refused(exchange, ci, dist_dir, issuer, project):
    ref = f"acme/{project}/.github/workflows/ci.yml@refs/heads/main"
    issuer.claims.update(job_workflow_ref=ref, workflow_ref=ref)
    result = trusted_publish(in_job(ci, issuer), exchange, build_wheel(dist_dir, project, "1.0"))
    problem_says(refusal(result), "invalid-publisher", "job_workflow_ref", WORKFLOW, ref)


def test_another_environment_is_refused(exchange, ci, dist_dir, issuer, project):
    issuer.claims["environment"] = "staging"
    result = trusted_publish(in_job(ci, issuer), exchange, build_wheel(dist_dir, project, "1.0"))
    problem_says(refusal(result), "invalid-publisher", "environment", f"'{ENVIRONMENT}'", "'staging'")


def test_expired_token_is_refused(exchange, ci, dist_dir, issuer, project):
    issuer.issued_offset = -3600  # issued an hour ago, expired 55 minutes ago
    result = trusted_publish(in_job(ci, issuer), exchange, build_wheel(dist_dir, project, "1.0"))
    problem_says(refusal(result), "expired-token", "expired")


def test_replayed_token_is_refused(exchange, ci, dist_dir, issuer, project):
    first = trusted_publish(in_job(ci, issuer), exchange, build_wheel(dist_dir / "a", project, "1.0"))
    assert first.returncode == 0, first.stdout + first.stderr
    # A token seen in a job's log (or stolen from it) and sent again: same jti, still unexpired.
    issuer.serve_token = issuer.issued[-1]
    again = trusted_publish(in_job(ci, issuer), exchange, build_wheel(dist_dir / "b", project, "2.0"))
    problem_says(refusal(again), "replayed-token", "already exchanged")
    assert issuer.issued[-1] == issuer.issued[-2]
    assert f"{project.replace('-', '_')}-2.0-py3-none-any.whl" not in published_files(exchange, project)


def test_unknown_issuer_is_refused_without_asking_it(exchange, ci, dist_dir, stranger, project):
    asked_before = len(stranger.id_token_requests())
    result = trusted_publish(in_job(ci, stranger), exchange, build_wheel(dist_dir, project, "1.0"))
    problem_says(refusal(result), "invalid-issuer", repr(stranger.url), "not trusted")
    # The index fetched nothing from an issuer it does not trust.
    assert stranger.hits("/.well-known") == []
    assert stranger.hits("/jwks") == []
    assert len(stranger.id_token_requests()) == asked_before + 1  # only uv's own, for the job's token


def test_token_for_another_project_is_refused(exchange, ci, dist_dir, issuer, project):
    other = unique("tp-other")
    create_project(ci, exchange, dist_dir, other)
    result = trusted_publish(in_job(ci, issuer), exchange, build_wheel(dist_dir, other, "1.0"))
    output = re.sub(r"\s+", " ", result.stdout + result.stderr)
    assert result.returncode != 0, output
    # The exchange worked (the job's publisher is the project's); the upload to another is not allowed.
    assert "Failed to obtain token" not in output
    assert "403" in output
    assert f"minted by trusted publishing for project '{project}'; it cannot upload to project '{other}'" in output
    assert published_files(exchange, other) == [f"{other.replace('-', '_')}-0.1-py3-none-any.whl"]


def test_pending_publisher_creates_its_project(exchange, ci, dist_dir, issuer):
    """A publisher added before the project exists: the job's first upload creates it, alice its Owner."""
    name = unique("tp-new")
    add_github_publisher(exchange, name, issuer, f"acme/{name}", "--pending", "--owner", "alice")
    job_of(issuer, f"acme/{name}")
    wheel = build_wheel(dist_dir, name, "1.0")
    result = trusted_publish(in_job(ci, issuer), exchange, wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    assert published_files(exchange, name) == [wheel.name]
    owners = exchange.shell(
        "from packages_app.models import Role\n"
        f"print(sorted(Role.objects.filter(project__name={name!r}).values_list('user__username', 'role_name')))"
    )
    assert "alice" in owners, owners


def test_one_workflow_publishes_two_projects(exchange, ci, dist_dir, issuer):
    """A repository releasing two packages from one workflow: each project names the same job, and
    one exchange uploads to both (as a publisher shared by projects does on the public index)."""
    first, second = unique("tp-pair"), unique("tp-pair")
    repository = f"acme/{first}-mono"
    for name in (first, second):
        create_project(ci, exchange, dist_dir / name, name)
        add_github_publisher(exchange, name, issuer, repository)
    job_of(issuer, repository)
    wheels = [build_wheel(dist_dir, name, "1.0") for name in (first, second)]
    result = trusted_publish(in_job(ci, issuer), exchange, *wheels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert wheels[0].name in published_files(exchange, first)
    assert wheels[1].name in published_files(exchange, second)


def post_json(server: IndexServer, path: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - the loopback index under test
        f"{server.url}{path}", data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=server.ssl_context)
    )
    try:
        with opener.open(request, timeout=30) as response:
            status, data = response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            status, data = error.code, error.read()
    try:
        return status, json.loads(data)
    except ValueError:
        return status, {"not JSON": data.decode(errors="replace")[:500]}


def test_the_publish_actions_exchange_path_mints_too(exchange, issuer, project):
    """The standard publish action posts to /_/oidc/github/mint-token (the public index's older
    path), not /_/oidc/mint-token: pointed at this index it must work unchanged too."""
    token = issuer.token(AUDIENCE)
    status, body = post_json(exchange, "/_/oidc/github/mint-token", {"token": token})
    assert status == 200, body
    assert body["success"] is True
    assert body["token"]
    # One exchange, whichever path: the token is spent.
    status, body = post_json(exchange, "/_/oidc/mint-token", {"token": token})
    assert status >= 400
    assert body["errors"][0]["code"] == "replayed-token", body
