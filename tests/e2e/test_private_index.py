"""A private index (``READ_ACCESS=authenticated``) with the real clients.

twine publishes with a write token; pip and uv install with a read-only one and get
nothing without it; the read-only token's upload is refused with a 403 that twine shows;
a restricted project installs for a member of its team and for no one else.
(docs/clients.md's own test follows every documented way of passing the token: URLs,
netrc, uv's ``UV_INDEX_<NAME>_*`` variables, poetry's ``http-basic``.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.dists import build_sdist, build_wheel
from tests.e2e.helpers import Clients, IndexServer, installed_version, started_index_server

PASSWORD = "private index battery staple"


@pytest.fixture(scope="module")
def private_server(tmp_path_factory) -> Iterator[IndexServer]:
    with started_index_server(
        tmp_path_factory.mktemp("private-index"), extra_env={"READ_ACCESS": "authenticated"}
    ) as server:
        for user in ("olivia", "tess", "nick"):
            server.ensure_user(user, PASSWORD)
        server.shell(
            "from django.contrib.auth.models import Group, User\n"
            "team, _ = Group.objects.get_or_create(name='blue')\n"
            "User.objects.get(username='tess').groups.add(team)\n"
        )
        yield server


@pytest.fixture(scope="module")
def tokens(private_server) -> dict[str, str]:
    def token(user: str, *flags: str) -> str:
        return private_server.manage("create_token", user, *flags).strip()

    return {
        "write": token("olivia"),
        "read-only": token("olivia", "--read-only"),
        "team member": token("tess", "--read-only"),
        "non-member": token("nick", "--read-only"),
    }


@pytest.fixture(scope="module")
def published(private_server, tokens, tmp_path_factory) -> str:
    """open-app 1.0 and secret-lib 1.0, published by twine with the write token; secret-lib restricted
    to its owner and team blue (Readers)."""
    dists = tmp_path_factory.mktemp("private-dists")
    clients = Clients(tmp_path_factory.mktemp("publisher"), private_server.url)
    files = [
        build_wheel(dists, "open-app", "1.0"),
        build_sdist(dists, "open-app", "1.0"),
        build_wheel(dists, "secret-lib", "1.0"),
    ]
    result = clients.twine("upload", *files, username="__token__", password=tokens["write"])
    assert result.returncode == 0, result.stdout + result.stderr
    private_server.shell(
        "from django.contrib.auth.models import Group\n"
        "from packages_app.models import Project\n"
        "from packages_app.services import projects, roles\n"
        "secret = Project.objects.get(normalized_name='secret-lib')\n"
        "projects.set_visibility(secret, 'restricted')\n"
        "roles.grant_role(secret, Group.objects.get(name='blue'), 'Reader')\n"
    )
    return str(dists)


def index_url(server: IndexServer, token: str | None) -> str:
    if token is None:
        return f"{server.url}/simple/"
    scheme, _, host = server.url.partition("://")
    return f"{scheme}://__token__:{token}@{host}/simple/"


def pip_install(clients: Clients, url: str, name: str):
    return clients.pip("install", "--index-url", url, name)


def uv_install(clients: Clients, url: str, name: str):
    return clients.uv("pip", "install", "--no-python-downloads", "--python", clients.python, "--index-url", url, name)


INSTALLERS = {"pip": pip_install, "uv": uv_install}


@pytest.mark.parametrize("installer", sorted(INSTALLERS))
def test_installing_needs_a_token_and_a_read_only_one_is_enough(private_server, tokens, published, tmp_path, installer):
    clients = Clients(tmp_path, private_server.url)
    anonymous = INSTALLERS[installer](clients, index_url(private_server, None), "open-app")
    assert anonymous.returncode != 0
    # pip says only "no matching distribution"; the server's log says why.
    assert '"GET /simple/open-app/ HTTP/1.1" 401' in private_server.log_tail(200)
    assert installed_version(clients, clients.python, "open-app") is None
    result = INSTALLERS[installer](clients, index_url(private_server, tokens["read-only"]), "open-app")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(clients, clients.python, "open-app") == "1.0"


def test_a_read_only_token_cannot_upload(private_server, tokens, published, tmp_path):
    clients = Clients(tmp_path, private_server.url)
    wheel = build_wheel(tmp_path / "dists", "open-app", "2.0")
    result = clients.twine("upload", wheel, username="__token__", password=tokens["read-only"])
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "403" in output, output
    assert "read-only" in output, output
    check = private_server.shell(
        "from packages_app.models import Release\n"
        "print(Release.objects.filter(project__normalized_name='open-app', version='2.0').exists())\n"
    )
    assert check.strip() == "False"


@pytest.mark.parametrize("installer", sorted(INSTALLERS))
def test_a_restricted_project_installs_for_its_team_only(private_server, tokens, published, tmp_path, installer):
    member = Clients(tmp_path / "member", private_server.url)
    result = INSTALLERS[installer](member, index_url(private_server, tokens["team member"]), "secret-lib")
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_version(member, member.python, "secret-lib") == "1.0"
    other = Clients(tmp_path / "other", private_server.url)
    refused = INSTALLERS[installer](other, index_url(private_server, tokens["non-member"]), "secret-lib")
    assert refused.returncode != 0
    assert installed_version(other, other.python, "secret-lib") is None
