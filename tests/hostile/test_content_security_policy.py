"""A Content-Security-Policy on the pages a person's browser opens (the web UI, the admin, the API docs),
and none on what machines read (simple pages, files, JSON), which it would only slow down.
That the pages still work under the policy, with no violation, is checked in a real
Chromium: tests/browser/test_content_security_policy.py."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from indexsite.content_security_policy import POLICED_PATH_PREFIXES, POLICED_PATHS
from packages_app import web
from packages_app.api.urls import REDOC_POLICY
from packages_app.models import File
from tests.functional.upload_client import publish
from tests.streaming import close_unread

HEADER = "Content-Security-Policy"
NONCE_PREFIX, QUOTE = "'nonce-", "'"


def directives(response) -> dict[str, list[str]]:
    policy = response[HEADER]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_the_policed_prefixes_are_the_admins_the_docs_and_the_web_uis():
    assert set(POLICED_PATH_PREFIXES) == {
        reverse("admin:index"),
        reverse("api:docs"),
        reverse("api:redoc"),
        *web.PAGE_PREFIXES,  # checked against the URLconf by tests/functional/test_web_urls.py
    }
    assert (reverse("web:home"),) == POLICED_PATHS


@pytest.mark.parametrize("page", ["admin login", "admin index", "admin changelist", "swagger", "redoc"])
def test_people_pages_get_a_strict_policy(admin_client, page):
    anonymous = Client()
    urls = {
        "admin login": (anonymous, reverse("admin:login")),
        "admin index": (admin_client, reverse("admin:index")),
        "admin changelist": (admin_client, reverse("admin:packages_app_project_changelist")),
        "swagger": (anonymous, reverse("api:docs")),
        "redoc": (anonymous, reverse("api:redoc")),
    }
    browser, url = urls[page]
    response = browser.get(url)
    assert response.status_code == 200
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    # Redoc's page also allows its bundle's two fixed stylesheets, by hash.
    style_hashes = REDOC_POLICY["style-src"] if page == "redoc" else []
    for kind, extra in (("script-src", []), ("style-src", style_hashes)):
        assert "'unsafe-inline'" not in policy[kind]
        assert "'unsafe-eval'" not in policy[kind]
        assert [source for source in policy[kind] if not source.startswith(NONCE_PREFIX)] == ["'self'", *extra]
    assert policy.get("worker-src") == (["'self'", "blob:"] if page == "redoc" else None)
    # Every inline script and style on the page carries this answer's nonce; nothing else runs.
    body = response.content.decode()
    inline = [tag for tag in re.findall(r"<(?:script|style)\b[^>]*>", body) if "src=" not in tag]
    nonces = [source for source in policy["script-src"] if source.startswith(NONCE_PREFIX)]
    assert len(nonces) == (1 if inline else 0)
    assert bool(inline) is (page in ("swagger", "redoc"))
    for tag in inline:
        assert f'nonce="{nonces[0].removeprefix(NONCE_PREFIX).removesuffix(QUOTE)}"' in tag, tag
    assert nonces == [source for source in policy["style-src"] if source.startswith(NONCE_PREFIX)]
    assert not re.search(r"<[a-z]+\s[^>]*\son[a-z]+=", body)  # no inline event handlers


def test_each_answer_gets_its_own_nonce(client):
    first, second = (directives(client.get(reverse("api:docs")))["script-src"] for _ in range(2))
    assert first != second


def test_machine_answers_carry_no_policy(client, owner_auth, tmp_path):
    publish(client, tmp_path, "demo", "1.0", auth=owner_auth)
    file = File.objects.get()
    for url in (
        "/simple/",
        "/simple/demo/",
        "/pypi/demo/json",
        reverse("api:projects"),
        reverse("api:project", args=["demo"]),
        reverse("api:schema"),
        f"/packages/{file.path}",
        f"/packages/{file.path}.metadata",
        "/_health/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert HEADER not in response, url
        close_unread(response)
