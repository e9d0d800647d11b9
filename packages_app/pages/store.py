"""The page store: each page built once per change, one copy on disk, shared by every process.

Its interface is ``get_or_build(key, build)`` and the key helpers ``page_key`` and
``key_tag``; what a page looks like over HTTP is ``pages.serve``'s business.

A page's bytes depend only on what its key names: the *slot* (which page, media type,
URL layout...) and the *serial* (every change to a project moves its serial,
``services.journal``). So a stored body is never stale: a change makes a new key, the
next request builds the new page, and the page under the old serial is deleted then.

Where the bytes live:

- **Files** under ``PAGE_STORE_DIR``: ``<digest[:2]>/<digest>-<serial>`` and its gzip form
  ``…-<serial>.gz``, written atomically, mtime = the page's Last-Modified. Every worker
  of the node reads the same copy; big bodies go out with ``sendfile`` and live in the
  OS page cache, not in each Python heap (a per-worker LRU held up to 1.6 GiB of dead
  serials). Storing serial N deletes the slot's older files; an older serial is never
  stored over a newer one.
- **Redis** when ``SIMPLE_SHARED_CACHE`` names it: one entry per slot (the latest serial),
  so another node copies a page instead of building it again.
- Pages of the time-travel URLs (``/snapshot/<time>/``, ``/cooldown/<duration>/``) are the
  exception: a client picks the moment, and each of countless moments would be a page of
  its own. They stay in a small per-process store (``time_travel_pages``), bounded in
  bytes and count, never on disk or in Redis. So do the metadata API's list pages past
  the first (``CachePolicy.API_CURSOR``), for the same reason: any cursor is a page.

A change is built once: the first request to miss takes the slot's lock (in Redis when
configured, else an advisory file lock every worker of the node sees), the others wait
for its result. The gzip form is made inline by ISA-L (several times zlib's speed), so
the first answer after a change is compressed too; a builder from kept pieces hands over
both forms as ``Parts`` instead (``pages.deflate``: only the chunks a change touched are
compressed again), written by ``writev`` from its buffers and never joined in memory.

A builder's state (``advanced_state``) is kept per node beside the pages: pickled, or
for the big ones raw (``Group``): an index under the serial and segments of buffers that
a change adds to rather than rewrites, read back mapped.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import pickle
import secrets
import shutil
import tempfile
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TypeVar

from django.conf import settings
from django.core.cache import caches
from isal import igzip

from packages_app import metrics
from packages_app.pages.deflate import Buffer

State = TypeVar("State")

# Bump when the rendered form of any page changes, so no version reads another's pages.
# 3: pages on disk, keys split into slot and serial. 4: the HTML root kept under the last
# serial that changed it (older than the serials format 3 kept it under). 5: a live project
# page's gzip form framed from chunks compressed apart (``pages.deflate``): other bytes under
# the same strong ETag as format 4's one-shot gzip, so a new tag.
PAGE_FORMAT = 5
# ISA-L's level 1: about zlib level 6's size on these pages at a fraction of its time.
GZIP_LEVEL = 1
# Bodies above this are answered from the open file (sendfile); smaller ones are read.
STREAM_FROM = 256 * 1024
# How long a build may hold its slot before others stop waiting for it.
LOCK_SECONDS = 30
_POLL_SECONDS = 0.01
# zlib's window bits for a gzip stream; and how much of a big gzipped page ``Found.head`` reads at a time.
_GZIP_WBITS = 31
_HEAD_CHUNK = 16 * 1024
# The mtime of a page without a Last-Modified (a cool-down's, which moves with the clock).
_UNDATED = 1


@dataclass(frozen=True)
class PageKey:
    """Which page (``slot``) at which version (``serial``); ``text`` is its ETag's body."""

    slot: str
    serial: int

    @property
    def text(self) -> str:
        return f"{PAGE_FORMAT}:{self.slot}:{self.serial}"

    @property
    def digest(self) -> str:
        return hashlib.sha256(f"{PAGE_FORMAT}:{self.slot}".encode()).hexdigest()[:32]


def parse_key(text: str) -> PageKey:
    """The key whose ``text`` this is (what a page's ETag holds)."""
    prefix, _, rest = text.partition(":")
    slot, _, serial = rest.rpartition(":")
    if prefix != str(PAGE_FORMAT) or not serial.isdigit():
        raise ValueError(f"not a page key of format {PAGE_FORMAT}: {text!r}")
    return PageKey(slot, int(serial))


def page_key(*slot_parts: object, serial: int) -> PageKey:
    """The store's key of a page: what it depends on, and the serial that moves with every change."""
    return PageKey(":".join(map(str, slot_parts)), int(serial))


def key_tag(text: str) -> str:
    """A short, stable tag of ``text`` (a URL layout) to put in keys and ETags."""
    return format(zlib.crc32(text.encode("utf-8")), "08x")


@dataclass(frozen=True)
class Parts:
    """A body as buffers to write end to end, and its gzip form likewise (``pages.deflate``):
    what a builder of a big page from kept pieces returns, so that neither is ever joined
    into one object, nor the body compressed whole."""

    plain: Sequence[Buffer]
    gzipped: Sequence[Buffer]

    @property
    def size(self) -> int:
        return sum(len(part) for part in self.plain)

    def joined(self) -> tuple[bytes, bytes]:
        return b"".join(self.plain), b"".join(self.gzipped)


@dataclass(frozen=True)
class Page:
    """What a build returns: the body, and when the page last changed (None: no such time)."""

    body: bytes | Parts
    last_modified: datetime | None


def make_page(body: bytes | Parts, last_modified: datetime | None) -> Page:
    return Page(body, last_modified)


def gzip_bytes(body: bytes) -> bytes:
    return igzip.compress(body, GZIP_LEVEL, mtime=0)


@dataclass
class Found:
    """A stored page in the form asked: its bytes, or for a big one its open file."""

    content: bytes | BinaryIO
    size: int
    gzipped: bool
    last_modified: datetime | None

    def close(self) -> None:
        if not isinstance(self.content, bytes):
            self.content.close()

    def head(self, limit: int | None = None) -> bytes:
        """Up to ``limit`` bytes of the page's start (None: all of it), uncompressed: what a view
        reads a header off (``api.pagination.links_of``) without decoding the whole page."""
        if isinstance(self.content, bytes):
            chunks: Iterator[bytes] = iter((self.content,))
        else:
            file = self.content
            start = file.tell()
            chunks = iter(lambda: file.read(_HEAD_CHUNK), b"")
        inflate = zlib.decompressobj(wbits=_GZIP_WBITS) if self.gzipped else None
        head = b""
        try:
            for chunk in chunks:
                if inflate is not None:  # max_length 0: no bound
                    head += inflate.decompress(chunk, 0 if limit is None else limit - len(head))
                else:
                    head += chunk if limit is None else chunk[: limit - len(head)]
                if limit is not None and len(head) >= limit:
                    break
        finally:
            if not isinstance(self.content, bytes):
                self.content.seek(start)  # the response still sends the whole file
        return head


@dataclass(frozen=True)
class Built:
    """A page with its gzip form (None: not compressed), as kept in memory or Redis.

    Or, just built from kept pieces, its ``Parts`` (plain and gzip form, ``gzipped`` None;
    an empty gzip form: not compressed), which ``joined`` makes into the first kind.
    """

    serial: int
    body: bytes | Parts
    gzipped: bytes | None
    last_modified: datetime | None

    @property
    def size(self) -> int:
        if isinstance(self.body, Parts):
            return self.body.size + sum(len(part) for part in self.body.gzipped)
        return len(self.body) + len(self.gzipped or b"")

    def joined(self) -> Built:
        if not isinstance(self.body, Parts):
            return self
        plain, gzipped = self.body.joined()
        return Built(self.serial, plain, gzipped if self.body.gzipped else None, self.last_modified)

    def plain_parts(self) -> Sequence[Buffer]:
        return self.body.plain if isinstance(self.body, Parts) else (self.body,)

    def gzip_parts(self) -> Sequence[Buffer] | None:
        if isinstance(self.body, Parts):
            return self.body.gzipped or None
        return None if self.gzipped is None else (self.gzipped,)

    def found(self, want_gzip: bool) -> Found:
        if isinstance(self.body, Parts):
            return self.joined().found(want_gzip)
        use_gzip = want_gzip and self.gzipped is not None
        content = self.gzipped if use_gzip and self.gzipped is not None else self.body
        return Found(content, len(content), use_gzip, self.last_modified)


class LocalPages:
    """A least-recently-used store bounded by total bytes and a number of pages; thread-safe."""

    def __init__(self, max_bytes: int, max_pages: int) -> None:
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self._pages: OrderedDict[str, Built] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Built | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: str, page: Built) -> None:
        if page.size > self.max_bytes:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._pages[key] = page
            self._bytes += page.size
            while self._bytes > self.max_bytes or len(self._pages) > self.max_pages:
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


# A count as well as bytes: small pages (an empty snapshot of a project) cost more in
# bookkeeping than their bytes say.
TIME_TRAVEL_MAX_PAGES = 1000
time_travel_pages = LocalPages(settings.TIME_TRAVEL_MEMORY_CACHE_BYTES, TIME_TRAVEL_MAX_PAGES)


def get_or_build(
    key: PageKey, build: Callable[[], Page], *, gzip: bool, shared: bool = True, compress: bool = True
) -> Found:
    """The page under ``key`` (its gzip form if ``gzip`` and ``compress``), built and stored on a miss.

    ``shared=False`` (time travel): only this process's small ``time_travel_pages`` keeps it.
    ``compress=False``: a page too small to gain from a gzip form; none is made. Exceptions of
    ``build`` (a page that turns out not to exist) reach the caller, and nothing is stored.
    """
    want_gzip = gzip and compress
    if not shared:
        kept = time_travel_pages.get(key.text)
        if kept is None:
            kept = _built(key, build(), compress).joined()
            time_travel_pages.put(key.text, kept)
        return kept.found(want_gzip)
    found = _read(key, want_gzip)
    if found is not None:
        metrics.page_store("kept")
        return found
    with _slot_lock(key, lambda: _ready(key)):
        found = _read(key, want_gzip)
        if found is not None:
            metrics.page_store("kept")
            return found
        found = _copy_from_redis(key, want_gzip)
        if found is not None:
            metrics.page_store("redis")
            return found
        built = _built(key, build(), compress)
        _write(key, built)
        _share(key, built)
        metrics.page_store("built")
        if isinstance(built.body, Parts):
            # Never joined: answered from the files just written, as a hit is.
            found = _read(key, want_gzip)
            if found is not None:
                return found
        return built.joined().found(want_gzip)


def _built(key: PageKey, page: Page, compress: bool) -> Built:
    body = page.body
    if isinstance(body, Parts):
        _thread.built_bytes = getattr(_thread, "built_bytes", 0) + body.size
        if not compress:
            body = Parts(body.plain, ())
        return Built(key.serial, body, None, page.last_modified)
    _thread.built_bytes = getattr(_thread, "built_bytes", 0) + len(body)
    return Built(key.serial, body, gzip_bytes(body) if compress else None, page.last_modified)


# What each thread built: gunicorn.conf.py's post_request asks after each request.
_thread = threading.local()


def take_built_bytes() -> int:
    """Bytes of pages this thread has built since it last asked (0 when none).

    After a request that built a big page, the server gives the memory the build freed back
    to the kernel (``indexsite/allocator.py``).
    """
    built = getattr(_thread, "built_bytes", 0)
    _thread.built_bytes = 0
    return built


# ---------------------------------------------------------------- files


def _root() -> Path:
    return Path(settings.PAGE_STORE_DIR)


def _path(key: PageKey, serial: int, gzipped: bool) -> Path:
    return _root() / key.digest[:2] / f"{key.digest}-{serial}{'.gz' if gzipped else ''}"


def _read(key: PageKey, want_gzip: bool) -> Found | None:
    path = _path(key, key.serial, want_gzip)
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return None
    stat = os.fstat(file.fileno())
    last_modified = None if int(stat.st_mtime) == _UNDATED else datetime.fromtimestamp(int(stat.st_mtime), UTC)
    if stat.st_size > STREAM_FROM:
        return Found(file, stat.st_size, want_gzip, last_modified)
    with file:
        return Found(file.read(), stat.st_size, want_gzip, last_modified)


def _ready(key: PageKey) -> bool:
    """Whether another process of this node has stored the page meanwhile (what a waiter polls)."""
    return _path(key, key.serial, False).exists()


def _siblings(key: PageKey) -> Iterator[tuple[int, Path]]:
    """The slot's stored files, with their serials."""
    folder = _root() / key.digest[:2]
    prefix = key.digest + "-"
    with suppress(FileNotFoundError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(prefix):
                serial = entry.name[len(prefix) :].removesuffix(".gz")
                if serial.isdigit():
                    yield int(serial), Path(entry.path)


def _write(key: PageKey, built: Built) -> None:
    """Store ``built`` under ``key`` (gzip form first: a reader finding the plain body finds both),
    then delete the slot's older serials; nothing if a newer serial is stored already."""
    siblings = list(_siblings(key))
    if any(serial > key.serial for serial, _ in siblings):
        return
    stamp = _UNDATED if built.last_modified is None else int(built.last_modified.timestamp())
    gzipped = built.gzip_parts()
    if gzipped is not None:
        _write_atomically(_path(key, key.serial, True), gzipped, stamp)
    _write_atomically(_path(key, key.serial, False), built.plain_parts(), stamp)
    for serial, path in siblings:
        if serial < key.serial:
            with suppress(FileNotFoundError):
                path.unlink()


def _write_atomically(path: Path, parts: Sequence[Buffer], stamp: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".writing-")
    try:
        try:
            _write_all(descriptor, parts)
        finally:
            os.close(descriptor)
        os.utime(temporary, (stamp, stamp))
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


# At most this many buffers to one writev (Linux's IOV_MAX is 1024).
_WRITEV_MAX = 512


def _write_all(descriptor: int, parts: Sequence[Buffer]) -> None:
    """``parts`` end to end, by ``writev`` straight from the buffers (never joined first)."""
    pending = [memoryview(part).cast("B") for part in parts if len(part)]
    first = 0
    while first < len(pending):
        written = os.writev(descriptor, pending[first : first + _WRITEV_MAX])
        while first < len(pending) and written >= len(pending[first]):
            written -= len(pending[first])
            first += 1
        if written:  # a short write, within a buffer
            pending[first] = pending[first][written:]


# ---------------------------------------------------------------- single flight


@contextmanager
def _slot_lock(key: PageKey, ready: Callable[[], bool]) -> Iterator[None]:
    """Hold the slot's build lock, or wait until its holder has stored the page (``ready``)."""
    cache = _shared_cache()
    if cache is None:
        path = _root() / key.digest[:2] / f"{key.digest}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as handle:
            # Released by the kernel if the holder dies; a waiter's thread blocks meanwhile.
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    lock = f"page-lock:{key.digest}"
    deadline = time.monotonic() + LOCK_SECONDS
    while not cache.add(lock, key.serial, timeout=LOCK_SECONDS):
        if ready() or time.monotonic() > deadline:
            yield  # the page is there (read again under "lock"), or its holder is stuck: build
            return
        time.sleep(_POLL_SECONDS)
    try:
        yield
    finally:
        cache.delete(lock)


def single_flight(key: PageKey, ready: Callable[[], bool]):
    """The slot lock of ``key`` for work other than a page build (an upstream fetch): held while
    the block runs, or waited for until ``ready()`` says another process did the work."""
    return _slot_lock(key, ready)


# ---------------------------------------------------------------- Redis, between nodes


def _shared_cache():
    alias = settings.SIMPLE_SHARED_CACHE
    return caches[alias] if alias else None


def _share(key: PageKey, built: Built) -> None:
    cache = _shared_cache()
    if cache is not None:
        # A day is plenty: a page that is still current is rebuilt in milliseconds.
        cache.set(f"page:{key.digest}", built.joined(), timeout=86400)


def shared_page(key: PageKey) -> Built | None:
    """The slot's page in Redis if it is the serial asked."""
    cache = _shared_cache()
    built = None if cache is None else cache.get(f"page:{key.digest}")
    return built if isinstance(built, Built) and built.serial == key.serial else None


def _copy_from_redis(key: PageKey, want_gzip: bool) -> Found | None:
    built = shared_page(key)
    if built is None:
        return None
    _write(key, built)
    return built.found(want_gzip)


# ---------------------------------------------------------------- a builder's own state


def newest_state(key: PageKey) -> tuple[int, bytes] | None:
    """The newest body kept for ``key``'s slot at or below its serial, with that serial.

    What an incremental builder starts from (``simple.pieces``): its state of an older
    serial, advanced by what changed since. Never shared through Redis: each node keeps its own.
    """
    kept = [(serial, path) for serial, path in _siblings(key) if serial <= key.serial and path.suffix != ".gz"]
    for serial, path in sorted(kept, reverse=True):
        with suppress(FileNotFoundError):  # deleted by a newer write meanwhile: try the next
            return serial, path.read_bytes()
    return None


def keep_state(key: PageKey, body: bytes) -> None:
    """Keep a builder's state under ``key`` (no gzip form, no Redis); older serials are deleted."""
    _write(key, Built(key.serial, body, None, None))


def load_state(key: PageKey, kind: type[State]) -> State:
    """The ``kind`` object kept for ``key``'s slot (the newest at or below its serial), or a fresh
    ``kind()``: when none is kept, or it is torn, or of another form (its ``version`` differs).

    A ``kind`` with ``from_raw`` is kept raw (``save_state``): read back from mapped files."""
    fresh = kind()
    if hasattr(kind, "from_raw"):
        return _load_raw(key, kind)
    kept = newest_state(key)
    if kept is None:
        return fresh
    try:
        state = pickle.loads(kept[1])  # noqa: S301 - our own file in our own store, written by save_state
    except Exception:  # noqa: BLE001 - a torn or foreign file: start from nothing
        return fresh
    if type(state) is not kind or getattr(state, "version", None) != getattr(fresh, "version", None):
        return fresh
    return state


def save_state(key: PageKey, state: object) -> None:
    """Keep ``state`` under ``key``: pickled, or raw if it has ``to_raw`` (``Group``)."""
    if hasattr(state, "to_raw"):
        _save_raw(key, state)
    else:
        keep_state(key, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))


def advanced_state(key: PageKey, kind: type[State], advance: Callable[[State], State]) -> State:
    """The ``kind`` state at ``key.serial``: the one kept, else the newest older one brought there
    by ``advance`` (which sets its ``serial``) and kept.

    A raw state (``Group``) is advanced under the slot's lock, as a page is built: a second
    process wanting the same serial waits, then reads what the first kept."""
    if not hasattr(kind, "from_raw"):
        state = load_state(key, kind)
        if getattr(state, "serial", None) != key.serial:
            state = advance(state)
            save_state(key, state)
        return state
    if _path(key, key.serial, False).exists():
        state = _load_raw(key, kind)
        if getattr(state, "serial", None) == key.serial:
            return state
    with _slot_lock(key, lambda: _path(key, key.serial, False).exists()):
        state = _load_raw(key, kind)
        if getattr(state, "serial", None) != key.serial:
            state = advance(state)
            _save_raw(key, state)
    return state


# ------------------------------------------------ raw states: an index and segments
#
# A big builder's state (``simple.chunked``: a page's pieces in chunks, plain and compressed)
# is kept as an index file under the slot's serial, as any state, and segments beside it
# (``<digest>.segments/``): files of raw buffers, never rewritten. ``to_raw`` gives a small
# header (pickled into the index) and ``Group``s of buffers; a group read from a segment
# and unchanged keeps its place there, so a change writes only the groups it made (a few
# chunks: about a hundred KB where the whole state of ccxt's page is 10 MB), into one new
# segment. When the groups kept lie in ``MAX_SEGMENTS`` segments already, or more of those
# is dead than alive, all of them are written again into one (a compaction: the whole state,
# one change in many), so a state never has more than ``MAX_SEGMENTS``.
# A segment is deleted once the index just written does not name it (the older index is
# deleted then too, as any older serial's file); a reader that read the older index just
# before finds a segment gone and reads the newest index again. A state is advanced and
# kept under its slot's lock, so no two processes write one slot's segments at once.


@dataclass
class Group:
    """Buffers kept together in a raw state, and where they are kept already (None: new ones)."""

    blobs: Sequence[Buffer]
    stored: tuple[str, int] | None = None  # (segment, offset)


# The start of a raw state's index file.
_RAW_MAGIC = b"PGRAW002"
MAX_SEGMENTS = 8


def _segments(key: PageKey) -> Path:
    return _root() / key.digest[:2] / f"{key.digest}.segments"


def _load_raw(key: PageKey, kind: type[State], tries: int = 2) -> State:
    """The raw state kept for ``key``'s slot (the newest at or below its serial), or a fresh
    ``kind()``: when none is kept, or it is torn, or of another version."""
    fresh = kind()
    kept = [(serial, path) for serial, path in _siblings(key) if serial <= key.serial and path.suffix != ".gz"]
    for _, path in sorted(kept, reverse=True):
        try:
            index = path.read_bytes()
        except FileNotFoundError:  # deleted by a newer write meanwhile: try the next
            continue
        try:
            if index[:8] != _RAW_MAGIC:
                return fresh
            header, entries = pickle.loads(index[8:])  # noqa: S301 - our own file, written by _save_raw
            mapped = {}
            for segment in {entry[0] for entry in entries}:
                with (_segments(key) / segment).open("rb") as file:
                    mapped[segment] = memoryview(mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ))
            groups = []
            for segment, offset, sizes in entries:
                view, blobs, start = mapped[segment], [], offset
                for size in sizes:
                    blobs.append(view[start : start + size])
                    start += size
                if start > len(view):
                    raise ValueError("a torn segment")
                groups.append(Group(blobs, (segment, offset)))
            state = kind.from_raw(header, groups)  # type: ignore[attr-defined]
        except FileNotFoundError:  # a segment deleted by a newer write since the index was read
            return _load_raw(key, kind, tries - 1) if tries > 1 else fresh
        except Exception:  # noqa: BLE001 - torn or foreign: start from nothing
            return fresh
        if getattr(state, "version", None) != getattr(fresh, "version", None):
            return fresh
        return state
    return fresh


def _save_raw(key: PageKey, state: object) -> None:
    """Keep ``state`` under ``key``: the groups it made in a new segment, then the index; then the
    segments this index does not name are deleted."""
    header, groups = state.to_raw()  # type: ignore[attr-defined]
    folder = _segments(key)
    live: dict[str, int] = {}
    for group in groups:
        if group.stored is not None:
            live[group.stored[0]] = live.get(group.stored[0], 0) + sum(len(blob) for blob in group.blobs)
    sizes = {}
    for segment in live:
        try:
            sizes[segment] = (folder / segment).stat().st_size
        except FileNotFoundError:
            sizes[segment] = 0
    dead = sum(sizes.values()) - sum(live.values())
    compact = len(live) >= MAX_SEGMENTS or dead > sum(live.values()) or any(not size for size in sizes.values())
    new = [group for group in groups if compact or group.stored is None]
    placed: dict[int, tuple[str, int]] = {}
    if new:
        segment = f"{key.serial}-{secrets.token_hex(6)}"
        offset, blobs = 0, []
        for group in new:
            placed[id(group)] = (segment, offset)
            blobs.extend(group.blobs)
            offset += sum(len(blob) for blob in group.blobs)
        _write_atomically(folder / segment, blobs, _UNDATED)
    entries = []
    for group in groups:
        where = placed.get(id(group)) or group.stored
        assert where is not None  # noqa: S101 - every group is placed or stored
        entries.append((where[0], where[1], [len(blob) for blob in group.blobs]))
    index = _RAW_MAGIC + pickle.dumps((header, entries), protocol=pickle.HIGHEST_PROTOCOL)
    _write(key, Built(key.serial, index, None, None))
    if not _path(key, key.serial, False).exists():
        # A newer serial was kept before this one (``_write`` keeps none older): the new
        # segment is for nobody, and the older ones are the newer index's business.
        for segment in {where[0] for where in placed.values()}:
            with suppress(FileNotFoundError):
                os.unlink(folder / segment)
        return
    named = {entry[0] for entry in entries}
    with suppress(FileNotFoundError), os.scandir(folder) as listing:
        for entry in listing:
            if entry.name not in named and not entry.name.startswith(".writing-"):
                with suppress(FileNotFoundError):
                    os.unlink(entry.path)


# ---------------------------------------------------------------- accounting


@dataclass(frozen=True)
class Usage:
    files: int
    bytes: int


def usage() -> Usage:
    """What the file store holds now (the test of its bound; the operator's `du`)."""
    files = size = 0
    for folder, _, names in os.walk(_root()):
        for name in names:
            if not name.endswith(".lock"):
                files += 1
                size += os.path.getsize(os.path.join(folder, name))
    return Usage(files, size)


def forget_everything(*, shared: bool = False) -> None:
    """Drop every stored page (``manage.py clear_pages``; after a restore, serials repeat)."""
    time_travel_pages.clear()
    with suppress(FileNotFoundError):
        for child in _root().iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    cache = _shared_cache()
    if shared and cache is not None:
        client = cache._cache.get_client(write=True)
        for name in client.scan_iter(match=cache.make_key("page:*")):
            client.delete(name)
