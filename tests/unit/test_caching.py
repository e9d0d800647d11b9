"""The serial-keyed page store: a bounded LRU per process in front of a shared cache."""

from __future__ import annotations

import gzip
import uuid
from datetime import UTC, datetime

import pytest
from django.test import override_settings

from packages_app.pages import store
from packages_app.pages.serve import CachePolicy, serve_page
from packages_app.pages.store import LocalPages, Page, get_or_build, make_page, with_gzip
from tests import services

MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def page_of(size: int) -> Page:
    return Page(b"x" * size, b"", MOMENT)


def test_with_gzip_adds_the_gzip_form_of_the_body():
    page = with_gzip(make_page(b"<html>" * 1000, MOMENT))
    assert gzip.decompress(page.gzipped) == page.body
    assert len(page.gzipped) < len(page.body)
    assert with_gzip(make_page(page.body, MOMENT)).gzipped == page.gzipped  # no timestamp inside: deterministic


def test_local_pages_evict_least_recently_used_by_bytes():
    pages = LocalPages(max_bytes=300)
    pages.put("a", page_of(100))
    pages.put("b", page_of(100))
    pages.put("c", page_of(100))
    assert pages.get("a") is not None  # "a" is now the most recently used
    pages.put("d", page_of(100))
    assert pages.get("b") is None
    assert [key for key in ("a", "c", "d") if pages.get(key)] == ["a", "c", "d"]


def test_local_pages_replace_an_entry_without_double_counting():
    pages = LocalPages(max_bytes=250)
    pages.put("a", page_of(100))
    pages.put("a", page_of(100))
    pages.put("b", page_of(100))
    assert len(pages) == 2


def test_local_pages_can_be_bounded_by_count_too():
    pages = LocalPages(max_bytes=10_000, max_pages=2)
    for key in "abc":
        pages.put(key, page_of(10))
    assert (len(pages), pages.bytes) == (2, 20)
    assert pages.get("a") is None


def test_a_page_larger_than_the_budget_is_not_kept():
    pages = LocalPages(max_bytes=50)
    pages.put("big", page_of(100))
    assert pages.get("big") is None


def test_get_or_build_builds_once_per_key():
    builds = []

    def build():
        builds.append(1)
        return page_of(10)

    first = get_or_build("k1", build)
    assert get_or_build("k1", build) is first
    get_or_build("k2", build)
    assert len(builds) == 2


@pytest.fixture
def shared_redis():
    """A real Redis as the shared layer, under a prefix of this test's own."""
    services.require("Redis")
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": services.REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        },
    }
    with override_settings(CACHES=caches, SIMPLE_SHARED_CACHE="pages"):
        yield
        from django.core.cache import caches as handler

        handler["pages"].clear()


def test_a_page_built_by_one_process_serves_the_others(shared_redis):
    built = get_or_build("page", lambda: make_page(b"body", MOMENT))
    store.local_pages.clear()  # another process: its own memory is empty

    def must_not_build():
        raise AssertionError("the shared cache should have served this page")

    shared = get_or_build("page", must_not_build)
    assert shared == built


def test_gzip_is_made_in_the_background_and_replaces_the_stored_page(settings):
    settings.SIMPLE_GZIP_IN_BACKGROUND = True
    first = get_or_build("bg", lambda: make_page(b"<html>" * 1000, MOMENT))
    assert first.gzipped is None  # the first answer did not wait for compression
    store.wait_for_compressions()
    stored = get_or_build("bg", lambda: pytest.fail("the page was stored"))
    assert gzip.decompress(stored.gzipped) == first.body


def test_a_shared_page_without_gzip_is_compressed_here_too(shared_redis, settings):
    settings.SIMPLE_GZIP_IN_BACKGROUND = True
    store._shared_cache().set("half", make_page(b"x" * 5000, MOMENT))  # another process, not compressed yet
    assert get_or_build("half", lambda: pytest.fail("shared")).gzipped is None
    store.wait_for_compressions()
    assert gzip.decompress(get_or_build("half", lambda: pytest.fail("shared")).gzipped) == b"x" * 5000


def test_time_travel_pages_are_kept_apart_and_never_shared(shared_redis, settings):
    settings.SIMPLE_GZIP_IN_BACKGROUND = True
    built = get_or_build("moment", lambda: make_page(b"x" * 5000, MOMENT), shared=False)
    store.wait_for_compressions()
    assert store._shared_cache().get("moment") is None
    assert store.local_pages.get("moment") is None  # live pages keep their own memory
    kept = get_or_build("moment", lambda: pytest.fail("kept in this process"), shared=False)
    assert (kept.body, gzip.decompress(kept.gzipped)) == (built.body, built.body)


@pytest.mark.parametrize("in_background", [True, False])
def test_a_page_stored_without_compression_never_gets_a_gzip_form(settings, in_background):
    settings.SIMPLE_GZIP_IN_BACKGROUND = in_background
    first = get_or_build("small", lambda: make_page(b"{}" * 1000, MOMENT), compress=False)
    store.wait_for_compressions()
    again = get_or_build("small", lambda: pytest.fail("the page was stored"), compress=False)
    assert (first.gzipped, again.gzipped) == (None, None)


# ---------------------------------------------------------------- cache policies


def test_a_policy_reads_its_max_age_when_a_response_is_made(settings):
    settings.SIMPLE_MAX_AGE, settings.API_MAX_AGE = 600, 30
    assert CachePolicy.SIMPLE.cache_control == "max-age=600, public"
    assert CachePolicy.API.cache_control == "max-age=30, public"
    settings.SIMPLE_MAX_AGE = 0
    assert CachePolicy.SIMPLE.cache_control == "max-age=0, public"
    assert CachePolicy.PRIVATE.cache_control == "max-age=0, private"


def test_a_capped_policy_never_exceeds_its_setting_or_its_cap(settings):
    settings.SIMPLE_MAX_AGE = 600
    step = CachePolicy.TIME_TRAVEL.at_most(60)
    assert (step.max_age, step.shared_store) == (60, False)
    assert step.at_most(600).max_age == 60  # a second cap cannot loosen the first
    settings.SIMPLE_MAX_AGE = 30
    assert step.max_age == 30


def test_a_page_served_without_compression_ignores_a_stored_gzip_form(rf):
    """Before serve_page, the API's project pages were stored with an empty gzip form; still shared after an upgrade."""
    store.local_pages.put("api", Page(b'{"name":"a"}', b"", None))
    request = rf.get("/api/v1/projects/a/", HTTP_ACCEPT_ENCODING="gzip")
    response = serve_page(
        request,
        "api",
        lambda: pytest.fail("stored"),
        content_type="application/json",
        policy=CachePolicy.API,
        compress=False,
    )
    assert (response.content, response.has_header("Content-Encoding")) == (b'{"name":"a"}', False)
    assert not response.has_header("Last-Modified")


def test_pages_left_in_the_shared_cache_by_the_version_before_are_never_read(shared_redis):
    """Stored pages are pickled, naming their class's module; that moved (caching -> pages.store).

    The version before cannot read the new entries, nor this one the old, so during and after
    an upgrade neither may find the other's under its keys."""
    from django.core.cache import caches

    shared = caches["pages"]
    before = "simple:1:index:html:7:0123abcd"  # a key as the version before made it
    pickled_by_the_version_before = b"cpackages_app.caching\nPage\n)\x81."
    shared._cache.get_client(write=True).set(shared.make_and_validate_key(before), pickled_by_the_version_before)
    page = get_or_build(store.page_key("index", "html", 7, "0123abcd"), lambda: make_page(b"built anew", MOMENT))
    assert page.body == b"built anew"
