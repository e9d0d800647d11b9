"""serve_page (conditional requests, either encoding) and the named cache policies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils.http import http_date

from packages_app.pages import store
from packages_app.pages.serve import CachePolicy, serve_page
from packages_app.pages.store import make_page, page_key

MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def counting(body: bytes):
    builds = []

    def build():
        builds.append(1)
        return make_page(body, MOMENT)

    return build, builds


def test_either_encodings_validator_revalidates_the_page(rf):
    key = page_key("project:5", "html", serial=8)
    build, builds = counting(b"<a>" * 1000)

    def serve(**headers):
        request = rf.get("/simple/five/", **headers)
        return serve_page(request, key, build, content_type="text/html", policy=CachePolicy.SIMPLE)

    plain, zipped = serve(), serve(HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    assert plain["ETag"] == f'"{key.text}"'
    assert zipped["ETag"] == f'"{key.text}+gzip"'
    # Whichever coding this request gets, a validator of either (strong, or sent weak) is this page.
    for tag in (plain["ETag"], zipped["ETag"], "W/" + plain["ETag"], f'"other", {zipped["ETag"]}'):
        for headers in ({}, {"HTTP_ACCEPT_ENCODING": "gzip"}):
            answer = serve(HTTP_IF_NONE_MATCH=tag, **headers)
            assert answer.status_code == 304, (tag, headers)
            assert answer["ETag"] in tag  # the 304 names the validator it matched
    assert serve(HTTP_IF_NONE_MATCH='"3:project:5:html:7"').status_code == 200  # an older serial's
    assert len(builds) == 1


def test_a_revalidated_big_page_closes_its_file(rf, monkeypatch):
    body = b"x" * (store.STREAM_FROM + 1)
    key = page_key("big", serial=1)
    opened = []
    real_read = store._read

    def spying_read(*args, **kwargs):
        found = real_read(*args, **kwargs)
        opened.append(found)
        return found

    policy = CachePolicy.SIMPLE
    built = serve_page(rf.get("/"), key, lambda: make_page(body, MOMENT), content_type="text/html", policy=policy)
    assert built.content == body  # the build answers from memory; only later reads open the file
    monkeypatch.setattr(store, "_read", spying_read)
    # (By date: a revalidation by ETag reads no page at all, below.)
    request = rf.get("/", HTTP_IF_MODIFIED_SINCE=http_date(MOMENT.timestamp()))
    response = serve_page(request, key, pytest.fail, content_type="text/html", policy=policy)
    assert response.status_code == 304
    assert opened[0].content.closed


@pytest.mark.parametrize("suffix", ["", "+gzip"])
def test_an_etag_revalidation_reads_and_builds_nothing(rf, monkeypatch, suffix):
    """The tag names the page's slot and serial: a match is answered before the store is asked
    (a cleared store, another node's page), with the headers Django's own 304 keeps."""
    monkeypatch.setattr(store, "get_or_build", pytest.fail)
    key = page_key("project:5", "json", serial=8)
    request = rf.get("/", HTTP_IF_NONE_MATCH=f'"other", W/"{key.text}{suffix}"', HTTP_ACCEPT_ENCODING="gzip")
    response = serve_page(request, key, pytest.fail, content_type="application/json", policy=CachePolicy.API)
    assert response.status_code == 304
    assert response["ETag"] == f'"{key.text}{suffix}"'
    assert response["Cache-Control"] == "max-age=0, public"
    assert response["Vary"] == "Accept, Accept-Encoding"
    assert response.content == b""
    # A cache (pip's, poetry's) merges a 304's headers into the page it kept: a Content-Type
    # here would turn a kept JSON page into "HTML" with no links.
    assert "Content-Type" not in response


# ---------------------------------------------------------------- cache policies


def test_a_policy_reads_its_max_age_when_a_response_is_made(settings):
    settings.SIMPLE_MAX_AGE, settings.API_MAX_AGE = 600, 30
    assert CachePolicy.SIMPLE.cache_control() == "max-age=600, public"
    assert CachePolicy.API.cache_control() == "max-age=30, public"
    settings.SIMPLE_MAX_AGE = 0
    assert CachePolicy.SIMPLE.cache_control() == "max-age=0, public"
    assert CachePolicy.PRIVATE.cache_control() == "max-age=0, private"


def test_only_an_open_indexs_open_pages_are_public(settings):
    """A private index's pages, and a restricted project's anywhere, were given to credentials."""
    settings.SIMPLE_MAX_AGE = 600
    assert CachePolicy.SIMPLE.cache_control(restricted=True) == "max-age=600, private"
    settings.READ_ACCESS = "authenticated"
    assert CachePolicy.SIMPLE.cache_control() == "max-age=600, private"


def test_a_capped_policy_never_exceeds_its_setting_or_its_cap(settings):
    settings.SIMPLE_MAX_AGE = 600
    step = CachePolicy.TIME_TRAVEL.at_most(60)
    assert (step.max_age, step.shared_store) == (60, False)
    assert step.at_most(600).max_age == 60  # a second cap cannot loosen the first
    settings.SIMPLE_MAX_AGE = 30
    assert step.max_age == 30
