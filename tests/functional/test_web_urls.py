"""The web UI's paths (packages_app.web) agree with the URLconf, and the other routes still work."""

from __future__ import annotations

from django.urls import URLResolver, get_resolver, reverse

from packages_app import web
from packages_app.web import urls as web_urls


def web_paths() -> list[str]:
    samples = {"name": "demo", "version": "1.0", "key_id": "abc"}
    paths = []
    for pattern in web_urls.urlpatterns:
        arguments = {key: samples[key] for key in pattern.pattern.converters}
        paths.append(reverse(f"web:{pattern.name}", kwargs=arguments))
    return paths


def test_every_web_page_is_one_of_the_web_paths():
    for path in web_paths():
        assert web.is_web_page(path), path
    assert reverse("web:home") == web.HOME_PATH
    assert reverse("web:sign-in") == web.SIGN_IN_PATH


def test_no_other_route_is_taken_for_a_web_page():
    others = [
        p
        for p in get_resolver().url_patterns
        if not (isinstance(p, URLResolver) and p.urlconf_name == "packages_app.web.urls")
    ]
    for prefix in web.PAGE_PREFIXES:
        for pattern in others:
            assert not str(pattern.pattern).startswith(prefix.lstrip("/")), (prefix, pattern)


def test_the_root_is_the_landing_page_not_a_redirect(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Recently updated" in response.content
    assert client.get("/admin/").status_code == 302  # the admin is where it was
    assert client.get("/simple/").status_code == 200


def test_pages_answer_head_and_refuse_other_methods(client, db):
    assert client.head("/").status_code == 200
    assert client.head("/search/?q=x").status_code == 200
    assert client.post("/").status_code == 405
