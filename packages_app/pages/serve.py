"""Stored pages over HTTP: ``serve_page`` and the named cache policies it applies.

``serve_page`` is the one way a stored page is answered: the body (its gzip form
when the client takes it), an ETag made from the page's key, so a revalidation
is answered without looking at the body, ``Last-Modified`` when the page has one,
``Cache-Control`` from the view's :class:`CachePolicy`, and PyPI's serial header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from packages_app.pages import store


@dataclass(frozen=True)
class CachePolicy:
    """Who may keep a kind of page, for how long, and who may read it from another origin.

    A view names one (``policy=CachePolicy.SIMPLE``) rather than passing numbers. The
    max-age is read from its setting when a response is made, so the operator's value
    (and a test's override) always applies.
    """

    # The setting holding the max-age in seconds; None: 0, revalidate every time.
    max_age_setting: str | None
    # "public": shared caches (a proxy, a CDN) may keep it; else "private": only the client's own.
    public: bool = True
    # Read-only CORS for every origin, as PyPI sends on its simple and JSON pages.
    cross_origin: bool = True
    # False: kept only in this process's small store, never in the shared cache (pages.store).
    shared_store: bool = True
    # A bound below the setting, for pages that change with the clock (a cool-down's step).
    max_age_cap: int | None = None

    SIMPLE: ClassVar[CachePolicy]
    TIME_TRAVEL: ClassVar[CachePolicy]
    API: ClassVar[CachePolicy]
    PRIVATE: ClassVar[CachePolicy]

    @property
    def max_age(self) -> int:
        configured = getattr(settings, self.max_age_setting) if self.max_age_setting else 0
        return configured if self.max_age_cap is None else min(configured, self.max_age_cap)

    def at_most(self, seconds: int) -> CachePolicy:
        """The same policy, kept ``seconds`` at most."""
        cap = seconds if self.max_age_cap is None else min(seconds, self.max_age_cap)
        return replace(self, max_age_cap=cap)

    @property
    def cache_control(self) -> str:
        return f"max-age={self.max_age}, {'public' if self.public else 'private'}"


# /simple/ and the legacy JSON pages.
CachePolicy.SIMPLE = CachePolicy("SIMPLE_MAX_AGE")
# /snapshot/ and /cooldown/: any of countless moments is a page, so none of them goes to the shared cache.
CachePolicy.TIME_TRAVEL = CachePolicy("SIMPLE_MAX_AGE", shared_store=False)
# Reads of the metadata API.
CachePolicy.API = CachePolicy("API_MAX_AGE", cross_origin=False)
# What one caller alone may see (their own tokens' details in the events feed); not stored as a page yet.
CachePolicy.PRIVATE = CachePolicy(None, public=False, cross_origin=False)


def serve_page(
    request: HttpRequest,
    key: str,
    build: Callable[[], store.Page],
    *,
    content_type: str,
    policy: CachePolicy,
    serial: int | None = None,
    compress: bool = True,
) -> HttpResponse:
    """A 200 (or 304) for the page stored under ``key`` (``store.page_key``), built by ``build`` on a miss.

    ``serial``: sent as ``X-PyPI-Last-Serial``, as PyPI does on its pages. ``compress=False``:
    a page too small to gain from gzip, never compressed. Exceptions of ``build`` (a page that
    turns out not to exist) reach the caller, and nothing is stored.
    """
    page = store.get_or_build(key, build, shared=policy.shared_store, compress=compress)
    # (Not by the gzip form alone: the API's pages used to be stored with an empty one.)
    use_gzip = compress and page.gzipped is not None and accepts_gzip(request)
    body = page.gzipped if use_gzip else page.body
    # The key names the serial and representation; the gzip form is another representation.
    etag = '"' + key.removeprefix(store.KEY_PREFIX + ":") + ('-gzip"' if use_gzip else '"')
    response = HttpResponse(body, content_type=content_type)
    if use_gzip:
        response["Content-Encoding"] = "gzip"
    response["Content-Length"] = str(len(body))
    response["ETag"] = etag
    last_modified = None
    if page.last_modified is not None:  # else revalidated by ETag only
        last_modified = int(page.last_modified.timestamp())
        response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = policy.cache_control
    if compress:  # (PyPI's pages; the simple ones are negotiated by Accept too)
        response["Vary"] = "Accept, Accept-Encoding"
    if serial is not None:
        response["X-PyPI-Last-Serial"] = str(serial)
    if policy.cross_origin:
        add_cors_headers(response)
    return get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)


def accepts_gzip(request: HttpRequest) -> bool:
    # Token match, as Django's GZipMiddleware does; "gzip;q=0" is rare enough to ignore.
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def add_cors_headers(response: HttpResponse) -> None:
    """Read-only CORS, as PyPI sends on its simple pages."""
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "GET"
    response["Access-Control-Allow-Headers"] = (
        "Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since"
    )
    response["Access-Control-Max-Age"] = "86400"
    response["Access-Control-Expose-Headers"] = "X-PyPI-Last-Serial"
