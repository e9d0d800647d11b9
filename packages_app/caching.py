"""Precomputed simple pages, keyed by serial, and the HTTP caching around them.

A page's bytes depend only on (page, serial, media type, URL layout), and
every change to a project moves its serial (``services.journal``). So a
stored body is never stale: a change makes a new key, the next request
builds the new page once, and the old entry simply ages out. No purge
message has to reach anyone, which is what keeps several server processes
(or machines sharing one Redis) correct.

Two layers: a byte-bounded LRU in each process (a hit is a dict lookup and
no copy of a multi-megabyte body) in front of the shared Django cache named
by ``SIMPLE_SHARED_CACHE`` (Redis in production, so one process's build
serves the others). Pages of the time-travel URLs (``/snapshot/<time>/``,
``/cooldown/<duration>/``) are the exception: the client picks the moment, and
each of countless moments would be a page of its own, kept for a day in Redis (a
big project's is megabytes). They live only in a small store of their own in each
process, bounded in bytes and in count, where they can neither fill Redis nor
push out the live pages. Each entry holds the body and its gzip form, made once
rather than on every response: in a background thread after the build, so the
first request after a change does not wait for it (it gets the plain body;
every later one the gzip form).
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

# Bump when the rendered form of any page changes, so old entries are not served.
PAGE_FORMAT = 1
# gzip's fast levels (1-3) cost a tenth of the default level 6 on a multi-megabyte
# page and give up only ~7% of its saving: hex digests hardly compress anyway.
GZIP_LEVEL = 3


@dataclass(frozen=True)
class Page:
    body: bytes
    gzipped: bytes | None  # None until the background compression has run
    # None when no time says when the page last changed (a cool-down's moves with the clock).
    last_modified: datetime | None

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")


def make_page(body: bytes, last_modified: datetime | None) -> Page:
    return Page(body, None, last_modified)


def with_gzip(page: Page) -> Page:
    return replace(page, gzipped=gzip.compress(page.body, GZIP_LEVEL, mtime=0))


class LocalPages:
    """A least-recently-used store bounded by total bytes (and, if given, a number of pages); thread-safe."""

    def __init__(self, max_bytes: int, max_pages: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self._pages: OrderedDict[str, Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: str, page: Page) -> None:
        if page.size > self.max_bytes:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._pages[key] = page
            self._bytes += page.size
            while self._bytes > self.max_bytes or (self.max_pages is not None and len(self._pages) > self.max_pages):
                _, evicted = self._pages.popitem(last=False)
                self._bytes -= evicted.size

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def bytes(self) -> int:
        return self._bytes


local_pages = LocalPages(settings.SIMPLE_MEMORY_CACHE_BYTES)
# A count as well as bytes: small pages (an empty snapshot of a project) cost more in
# bookkeeping than their bytes say.
TIME_TRAVEL_MAX_PAGES = 1000
time_travel_pages = LocalPages(settings.TIME_TRAVEL_MEMORY_CACHE_BYTES, TIME_TRAVEL_MAX_PAGES)


def _shared_cache():
    alias = settings.SIMPLE_SHARED_CACHE
    return caches[alias] if alias else None


def _store(key: str, page: Page, shared: bool) -> None:
    if not shared:
        time_travel_pages.put(key, page)
        return
    cache = _shared_cache()
    if cache is not None:
        # A day is plenty: a page that is still current is rebuilt in milliseconds.
        cache.set(key, page, timeout=86400)
    local_pages.put(key, page)


# One thread: compressions queue rather than compete with requests for the cores.
_compressor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-gzip")
_pending: set[Future] = set()


def _compress_and_store(key: str, page: Page, shared: bool) -> None:
    _store(key, with_gzip(page), shared)


def wait_for_compressions() -> None:
    """Until every scheduled compression has been stored (for tests and benchmarks)."""
    wait(list(_pending))


def get_or_build(key: str, build: Callable[[], Page], *, shared: bool = True) -> Page:
    """The page stored under ``key``, building and storing it on a miss.

    ``shared=False`` (time travel): only this process's small ``time_travel_pages`` keeps it.
    """
    page = (local_pages if shared else time_travel_pages).get(key)
    if page is not None:
        return page
    cache = _shared_cache() if shared else None
    if cache is not None:
        page = cache.get(key)
    if page is None:
        page = build()
        if page.gzipped is None and not settings.SIMPLE_GZIP_IN_BACKGROUND:
            page = with_gzip(page)
        _store(key, page, shared)
    else:
        local_pages.put(key, page)
    if page.gzipped is None:  # built here, or shared by a process that had not compressed it yet
        future = _compressor.submit(_compress_and_store, key, page, shared)
        _pending.add(future)
        future.add_done_callback(_pending.discard)
    return page


def accepts_gzip(request: HttpRequest) -> bool:
    # Token match, as Django's GZipMiddleware does; "gzip;q=0" is rare enough to ignore.
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def page_response(
    request: HttpRequest, page: Page, *, etag: str, content_type: str, serial: int, max_age: int
) -> HttpResponse:
    """A 200 (or 304) for a stored page, with PyPI's cache and CORS headers.

    The ETag names the serial and representation, so a client's
    revalidation is answered without looking at the body. A page without
    ``last_modified`` is sent without ``Last-Modified`` and revalidated by ETag only.
    """
    use_gzip = page.gzipped is not None and accepts_gzip(request)
    body = page.gzipped if use_gzip else page.body
    if use_gzip:
        etag = etag[:-1] + '-gzip"'
    response = HttpResponse(body, content_type=content_type)
    if use_gzip:
        response["Content-Encoding"] = "gzip"
    response["Content-Length"] = str(len(body))
    response["ETag"] = etag
    last_modified = None
    if page.last_modified is not None:
        last_modified = int(page.last_modified.timestamp())
        response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = f"max-age={max_age}, public"
    response["Vary"] = "Accept, Accept-Encoding"
    response["X-PyPI-Last-Serial"] = str(serial)
    add_cors_headers(response)
    return get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)


def add_cors_headers(response: HttpResponse) -> None:
    """Read-only CORS, as PyPI sends on its simple pages."""
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "GET"
    response["Access-Control-Allow-Headers"] = (
        "Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since"
    )
    response["Access-Control-Max-Age"] = "86400"
    response["Access-Control-Expose-Headers"] = "X-PyPI-Last-Serial"


def page_key(*parts: object) -> str:
    return ":".join(["simple", str(PAGE_FORMAT), *map(str, parts)])


def key_tag(text: str) -> str:
    """A short, stable tag of ``text`` (a URL layout) to put in keys and ETags."""
    return format(zlib.crc32(text.encode("utf-8")), "08x")
