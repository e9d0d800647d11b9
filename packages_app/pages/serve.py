"""Stored pages over HTTP: ``serve_page`` and the named cache policies it applies.

``serve_page`` is the one way a stored page is answered: the body (its gzip form
when the client takes it), an ETag made from the page's key (one per coding, either of
which revalidates), so a revalidation is answered from the key alone (``not_modified``),
before the store is read or the page built,
``Last-Modified`` when the page has one, ``Cache-Control`` from the view's
:class:`CachePolicy`, and PyPI's serial header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_etags

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
    API_CURSOR: ClassVar[CachePolicy]
    PRIVATE: ClassVar[CachePolicy]

    @property
    def max_age(self) -> int:
        configured = getattr(settings, self.max_age_setting) if self.max_age_setting else 0
        return configured if self.max_age_cap is None else min(configured, self.max_age_cap)

    def at_most(self, seconds: int) -> CachePolicy:
        """The same policy, kept ``seconds`` at most."""
        cap = seconds if self.max_age_cap is None else min(seconds, self.max_age_cap)
        return replace(self, max_age_cap=cap)

    def cache_control(self, *, restricted: bool = False) -> str:
        """The header for a page; ``restricted``: it shows a project not everyone may see.

        Only an open index's pages of open projects are the same for everyone; any other
        answer was given to credentials, and a shared cache must not hand it to another client.
        """
        shared = self.public and settings.READ_ACCESS == "public" and not restricted
        return f"max-age={self.max_age}, {'public' if shared else 'private'}"


# /simple/ and the legacy JSON pages.
CachePolicy.SIMPLE = CachePolicy("SIMPLE_MAX_AGE")
# /snapshot/ and /cooldown/: any of countless moments is a page, so none of them goes to the shared cache.
CachePolicy.TIME_TRAVEL = CachePolicy("SIMPLE_MAX_AGE", shared_store=False)
# Reads of the metadata API.
CachePolicy.API = CachePolicy("API_MAX_AGE", cross_origin=False)
# The API's list pages past the first (a cursor, a page size, a filter): any position a cursor
# can name is a page, so, as time travel's, they are kept in the process's bounded memory only,
# never on the shared disk or in Redis, where a reader could make countless of them.
CachePolicy.API_CURSOR = CachePolicy("API_MAX_AGE", cross_origin=False, shared_store=False)
# What one caller alone may see (their own tokens' details in the events feed); not stored as a page yet.
CachePolicy.PRIVATE = CachePolicy(None, public=False, cross_origin=False)


def serve_page(
    request: HttpRequest,
    key: store.PageKey,
    build: Callable[[], store.Page],
    *,
    content_type: str,
    policy: CachePolicy,
    serial: int | None = None,
    compress: bool = True,
    restricted: bool = False,
    headers: Callable[[store.Found], dict[str, str]] | None = None,
) -> HttpResponse:
    """A 200 (or 304) for the page stored under ``key`` (``store.page_key``), built by ``build`` on a miss.

    ``serial``: sent as ``X-PyPI-Last-Serial``, as PyPI does on its pages. ``compress=False``:
    a page too small to gain from gzip, never compressed. Exceptions of ``build`` (a page that
    turns out not to exist) reach the caller, and nothing is stored. ``restricted``: the page
    shows a restricted project (``CachePolicy.cache_control``). ``headers``: what else to send
    with a 200, made from the stored page (``store.Found.head``).

    The caller has checked that the client may read the page: a 304 comes before anything else.
    """
    unchanged = not_modified(request, key, policy=policy, compress=compress, restricted=restricted)
    if unchanged is not None:
        return unchanged
    found = store.get_or_build(key, build, gzip=accepts_gzip(request), shared=policy.shared_store, compress=compress)
    # A strong tag per coding (RFC 9110: the gzip body is another representation), and a
    # revalidation with either one is a match: whichever form a worker picks, any
    # validator of the current page gets its 304. Not one weak tag: uv's HTTP cache does
    # not revalidate with a weak tag, and falls back on If-Modified-Since, whose
    # one-second grain cannot tell two changes in the same second apart.
    etag = f'"{key.text}{GZIP_TAG_SUFFIX if found.gzipped else ""}"'
    if isinstance(found.content, bytes):
        response: HttpResponse = HttpResponse(found.content, content_type=content_type)
    else:  # a big page: its open file goes out by sendfile, never through Python's heap
        response = FileResponse(found.content, content_type=content_type)
        del response["Content-Disposition"]
        # Where it is read rather than sent by sendfile (a TLS socket, a test client), in
        # blocks of this size: Django's 4 KiB made a 20 MB page 5,000 reads through Python.
        response.block_size = FILE_BLOCK
    if found.gzipped:
        response["Content-Encoding"] = "gzip"
    response["Content-Length"] = str(found.size)
    response["ETag"] = etag
    last_modified = None
    if found.last_modified is not None:  # else revalidated by ETag only
        last_modified = int(found.last_modified.timestamp())
        response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = policy.cache_control(restricted=restricted)
    if compress:
        response["Vary"] = VARY
    if serial is not None:
        response["X-PyPI-Last-Serial"] = str(serial)
    if policy.cross_origin:
        add_cors_headers(response)
    if headers is not None:
        for name, value in headers(found).items():
            response[name] = value
    answer = get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)
    if answer is not response:
        # A 304: the body is not sent. Close the file only: response.close() would also
        # send request_finished, which closes the database connection mid-request.
        found.close()
    return answer


GZIP_TAG_SUFFIX = "+gzip"
# Under the allocator's mmap threshold (indexsite/allocator.py): each block reuses heap memory.
FILE_BLOCK = 128 * 1024
# (PyPI's pages; the simple ones are negotiated by Accept too)
VARY = "Accept, Accept-Encoding"


def not_modified(
    request: HttpRequest, key: store.PageKey, *, policy: CachePolicy, compress: bool = True, restricted: bool = False
) -> HttpResponse | None:
    """The 304 for an ``If-None-Match`` naming this page at this serial (either coding), else None.

    Answered from the key alone: the tag names the slot and the serial, which is all the
    page depends on, so the store is not read and nothing is built (a cleared store, or
    another node's tag, costs nothing more). ``If-None-Match`` wins over ``If-Modified-Since``
    (RFC 9110), so a 304 here is what ``get_conditional_response`` would answer too.
    """
    if request.method not in ("GET", "HEAD"):
        return None
    tag = _validator_of_this_page(request, key)
    if tag is None:
        return None
    # The headers Django's own 304 keeps from the 200 (``get_conditional_response``); no
    # Last-Modified, which RFC 9110 leaves out of a 304 that has an ETag.
    # HttpResponseNotModified has no Content-Type: a cache merges a 304's headers into the page
    # it kept, and a default "text/html" would make a kept JSON page read as HTML (no links).
    response = HttpResponseNotModified()
    response["ETag"] = tag
    response["Cache-Control"] = policy.cache_control(restricted=restricted)
    if compress:
        response["Vary"] = VARY
    return response


def _validator_of_this_page(request: HttpRequest, key: store.PageKey) -> str | None:
    """The tag in ``If-None-Match`` that names this page version in either coding, if any."""
    header = request.headers.get("If-None-Match")
    if not header:
        return None
    ours = {f'"{key.text}"', f'"{key.text}{GZIP_TAG_SUFFIX}"'}
    for tag in parse_etags(header):
        if tag.removeprefix("W/") in ours:  # weak comparison, as If-None-Match asks
            return tag.removeprefix("W/")
    return None


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
