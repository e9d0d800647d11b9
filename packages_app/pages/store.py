"""The page store: pages keyed by serial, built once, kept in memory and in a shared cache.

Its interface is ``get_or_build(key, build)`` and the key helpers ``page_key`` and
``key_tag``; what a page looks like over HTTP is ``pages.serve``'s business.

A page's bytes depend only on what its key names (page, serial, media type, URL
layout...), and every change to a project moves its serial (``services.journal``).
So a stored body is never stale: a change makes a new key, the next request
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

# Bump when the rendered form of any page changes, or Page moves or changes shape (it is
# pickled into the shared cache), so no version reads another's entries. 2: Page moved here.
PAGE_FORMAT = 2
# Of every key (the simple pages were the first stored; a new prefix would orphan every entry).
KEY_PREFIX = "simple"
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


def get_or_build(key: str, build: Callable[[], Page], *, shared: bool = True, compress: bool = True) -> Page:
    """The page stored under ``key``, building and storing it on a miss.

    ``shared=False`` (time travel): only this process's small ``time_travel_pages`` keeps it.
    ``compress=False``: no gzip form is ever made (for pages too small to gain from one).
    """
    page = (local_pages if shared else time_travel_pages).get(key)
    if page is not None:
        return page
    cache = _shared_cache() if shared else None
    if cache is not None:
        page = cache.get(key)
    if page is None:
        page = build()
        if compress and page.gzipped is None and not settings.SIMPLE_GZIP_IN_BACKGROUND:
            page = with_gzip(page)
        _store(key, page, shared)
    else:
        local_pages.put(key, page)
    if compress and page.gzipped is None:  # built here, or shared by a process that had not compressed it yet
        future = _compressor.submit(_compress_and_store, key, page, shared)
        _pending.add(future)
        future.add_done_callback(_pending.discard)
    return page


def page_key(*parts: object) -> str:
    """The store's key of a page: what the page depends on, joined (its ETag too, less the prefix)."""
    return ":".join([KEY_PREFIX, str(PAGE_FORMAT), *map(str, parts)])


def key_tag(text: str) -> str:
    """A short, stable tag of ``text`` (a URL layout) to put in keys and ETags."""
    return format(zlib.crc32(text.encode("utf-8")), "08x")
