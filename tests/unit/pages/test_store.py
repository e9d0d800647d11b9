"""The page store: one file per page version shared by the node's workers, Redis between nodes."""

from __future__ import annotations

import gzip
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.test import override_settings

from packages_app.pages import deflate, store
from packages_app.pages.store import Built, LocalPages, get_or_build, make_page, page_key
from tests import services

MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def built_of(size: int) -> Built:
    return Built(1, b"x" * size, None, MOMENT)


def body_of(found: store.Found) -> bytes:
    if isinstance(found.content, bytes):
        return found.content
    with found.content:
        return found.content.read()


def test_gzip_form_is_deterministic_and_decompresses_to_the_body():
    body = b"<html>" * 1000
    packed = store.gzip_bytes(body)
    assert gzip.decompress(packed) == body
    assert len(packed) < len(body)
    assert store.gzip_bytes(body) == packed  # no timestamp inside: every node makes the same bytes


def test_a_key_reads_back_from_its_text():
    key = page_key("project:7", "json", "0123abcd", serial=42)
    assert key.text == f"{store.PAGE_FORMAT}:project:7:json:0123abcd:42"
    assert store.parse_key(key.text) == key
    with pytest.raises(ValueError, match="not a page key"):
        store.parse_key("2:simple:index:html:7")


# ---------------------------------------------------------------- the bounded per-process store


def test_local_pages_evict_least_recently_used_by_bytes():
    pages = LocalPages(max_bytes=300, max_pages=100)
    for key in "abc":
        pages.put(key, built_of(100))
    assert pages.get("a") is not None  # "a" is now the most recently used
    pages.put("d", built_of(100))
    assert pages.get("b") is None
    assert [key for key in ("a", "c", "d") if pages.get(key)] == ["a", "c", "d"]


def test_local_pages_replace_an_entry_without_double_counting():
    pages = LocalPages(max_bytes=250, max_pages=100)
    pages.put("a", built_of(100))
    pages.put("a", built_of(100))
    pages.put("b", built_of(100))
    assert (len(pages), pages.bytes) == (2, 200)


def test_local_pages_are_bounded_by_count_too():
    pages = LocalPages(max_bytes=10_000, max_pages=2)
    for key in "abc":
        pages.put(key, built_of(10))
    assert (len(pages), pages.bytes) == (2, 20)
    assert pages.get("a") is None


def test_a_page_larger_than_the_budget_is_not_kept():
    pages = LocalPages(max_bytes=50, max_pages=10)
    pages.put("big", built_of(100))
    assert pages.get("big") is None


# ---------------------------------------------------------------- the file store


def counting(body: bytes, last_modified: datetime | None = MOMENT):
    builds = []

    def build():
        builds.append(1)
        return make_page(body, last_modified)

    return build, builds


def test_a_page_is_built_once_per_key_and_read_back_from_its_file():
    build, builds = counting(b"<html>" * 100)
    key = page_key("project:1", "html", serial=5)
    first = get_or_build(key, build, gzip=False)
    again = get_or_build(key, build, gzip=False)
    zipped = get_or_build(key, build, gzip=True)
    assert (body_of(first), body_of(again), first.last_modified, again.last_modified) == (
        b"<html>" * 100,
        b"<html>" * 100,
        MOMENT,
        MOMENT,
    )
    assert zipped.gzipped
    assert gzip.decompress(body_of(zipped)) == b"<html>" * 100  # gzip from the first answer on
    get_or_build(page_key("project:1", "html", serial=6), build, gzip=False)
    assert len(builds) == 2


def test_a_page_without_a_date_reads_back_without_one():
    key = page_key("cooldown-ish", serial=1)
    get_or_build(key, lambda: make_page(b"body", None), gzip=False)
    assert get_or_build(key, lambda: pytest.fail("stored"), gzip=False).last_modified is None


def test_a_big_page_is_answered_from_its_open_file():
    body = b"0123456789abcdef" * (store.STREAM_FROM // 16 + 1)
    key = page_key("big", serial=1)
    get_or_build(key, lambda: make_page(body, MOMENT), gzip=False)
    found = get_or_build(key, lambda: pytest.fail("stored"), gzip=False)
    assert not isinstance(found.content, bytes)
    assert (found.size, body_of(found)) == (len(body), body)


def test_storing_a_serial_deletes_the_older_ones_and_never_goes_back():
    for serial in range(1, 51):  # fifty changes to one project
        get_or_build(page_key("project:9", "json", serial=serial), lambda: make_page(b"{}" * 500, MOMENT), gzip=True)
    assert store.usage().files == 2  # the current serial, plain and gzip
    late = get_or_build(page_key("project:9", "json", serial=7), lambda: make_page(b"old", MOMENT), gzip=False)
    assert body_of(late) == b"old"  # a slow request still gets its answer...
    assert store.usage().files == 2  # ...but an old serial never replaces the new one
    assert body_of(get_or_build(page_key("project:9", "json", serial=50), pytest.fail, gzip=False)) == b"{}" * 500


def test_a_page_stored_without_compression_answers_gzip_requests_plainly():
    key = page_key("api-project", 1, serial=3)
    get_or_build(key, lambda: make_page(b"{}", None), gzip=True, compress=False)
    found = get_or_build(key, lambda: pytest.fail("stored"), gzip=True, compress=False)
    assert (found.gzipped, body_of(found), store.usage().files) == (False, b"{}", 1)


def test_a_failed_build_stores_nothing_and_lets_the_next_request_build():
    key = page_key("legacy", 1, "9.9", serial=1)

    def fails():
        raise LookupError("no such release")

    with pytest.raises(LookupError):
        get_or_build(key, fails, gzip=False)
    assert body_of(get_or_build(key, lambda: make_page(b"now", None), gzip=False)) == b"now"


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


@pytest.mark.parametrize("lock", ["file lock", "Redis"])
def test_requests_missing_the_same_page_at_once_build_it_once(lock, request):
    if lock == "Redis":
        request.getfixturevalue("shared_redis")
    builds = []

    def slow_build():
        builds.append(1)
        time.sleep(0.3)  # long enough for every other request to arrive and wait
        return make_page(b"<html>" * 1000, MOMENT)

    key = page_key("index", "html", serial=11)
    bodies = []

    def request_page(zipped: bool):
        found = get_or_build(key, slow_build, gzip=zipped)
        bodies.append(gzip.decompress(body_of(found)) if zipped else body_of(found))

    threads = [threading.Thread(target=request_page, args=(n % 2 == 0,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(builds), bodies) == (1, [b"<html>" * 1000] * 8)


def test_a_page_built_on_one_node_is_copied_by_another(shared_redis, settings, tmp_path):
    key = page_key("project:3", "json", serial=4)
    settings.PAGE_STORE_DIR = tmp_path / "node-a"
    built = get_or_build(key, lambda: make_page(b"{}" * 100, MOMENT), gzip=False)
    settings.PAGE_STORE_DIR = tmp_path / "node-b"
    copied = get_or_build(key, pytest.fail, gzip=True)
    assert gzip.decompress(body_of(copied)) == body_of(built)
    assert (copied.last_modified, store.usage().files) == (MOMENT, 2)  # and now on node b's disk
    stale = page_key("project:3", "json", serial=5)
    assert body_of(get_or_build(stale, lambda: make_page(b"new", None), gzip=False)) == b"new"


def test_time_travel_pages_are_kept_apart_and_never_shared(shared_redis):
    key = page_key("project:1", "html", "snapshot-1700000000", serial=3)
    built = get_or_build(key, lambda: make_page(b"x" * 5000, MOMENT), gzip=False, shared=False)
    assert store.shared_page(key) is None
    assert store.usage().files == 0  # not on disk either
    kept = get_or_build(key, pytest.fail, gzip=True, shared=False)
    assert (body_of(built), gzip.decompress(body_of(kept))) == (b"x" * 5000, b"x" * 5000)


def test_clear_pages_deletes_every_stored_page_here_and_in_redis(shared_redis, capsys):
    key = page_key("project:3", "json", serial=4)
    get_or_build(key, lambda: make_page(b"{}", MOMENT), gzip=False)
    assert store.shared_page(key) is not None
    call_command("clear_pages")
    assert store.usage().files == 0
    assert store.shared_page(key) is None
    assert "Deleted 2 stored page files" in capsys.readouterr().out


@pytest.mark.parametrize("gzipped", [False, True])
@pytest.mark.parametrize("big", [False, True])
def test_a_found_pages_head_is_its_start_uncompressed(tmp_path, gzipped, big):
    """What a view reads a header off (the API's links): the plain body's first bytes, from the
    bytes or the open file of either coding, the file left where the response starts sending."""
    body = bytes(range(256)) * (2 * store.STREAM_FROM // 256 if big else 4)
    data = store.gzip_bytes(body) if gzipped else body
    path = tmp_path / "page"
    path.write_bytes(data)
    content = path.open("rb") if big else data
    found = store.Found(content, len(data), gzipped, None)
    assert found.head(1000) == body[:1000]
    assert found.head(len(body) + 5) == found.head() == body
    if big:
        assert content.tell() == 0
    found.close()


# ---------------------------------------------------------------- pages in parts, raw states


def parts_of(chunks: list[bytes]) -> store.Parts:
    body = [(chunk, deflate.deflate(chunk, before)) for before, chunk in zip([b"", *chunks], chunks, strict=False)]
    plain, gzipped = deflate.framed(b"[", body, b"]")
    return store.Parts(plain, gzipped)


@pytest.mark.parametrize("size", [10, store.STREAM_FROM])  # read back, or sent from its open file
def test_a_page_in_parts_is_written_as_it_is_and_shared_joined(shared_redis, size):
    chunks = [bytes([65 + n]) * size for n in range(5)]
    page = b"[" + b"".join(chunks) + b"]"
    key = page_key("project:4", "json", serial=2)
    found = get_or_build(key, lambda: make_page(parts_of(chunks), MOMENT), gzip=True)
    assert (found.gzipped, gzip.decompress(body_of(found))) == (True, page)
    assert body_of(get_or_build(key, pytest.fail, gzip=False)) == page
    shared = store.shared_page(key)  # Redis holds it joined, as any page
    assert (shared.body, gzip.decompress(shared.gzipped)) == (page, page)


def test_writing_parts_survives_more_buffers_than_one_writev_takes(tmp_path):
    parts = [bytes([n % 251]) * (n % 7) for n in range(3 * store._WRITEV_MAX + 5)]
    store._write_atomically(tmp_path / "page", [memoryview(part) for part in parts], 1)
    assert (tmp_path / "page").read_bytes() == b"".join(parts)


class Kept:
    """A raw state: a serial, and one group of buffers per word."""

    version = 1

    def __init__(self, serial: int = -1, groups: list[store.Group] | None = None) -> None:
        self.serial = serial
        self.groups = groups or []

    def words(self) -> list[bytes]:
        return [bytes(group.blobs[0]) for group in self.groups]

    def to_raw(self):
        return self.serial, self.groups

    @classmethod
    def from_raw(cls, header, groups):
        return cls(header, groups)


def advanced_by(word: bytes, serial: int):
    def advance(kept: Kept) -> Kept:
        kept.serial = serial
        kept.groups = (
            [*kept.groups[1:], store.Group([word])] if len(kept.groups) >= 20 else [*kept.groups, store.Group([word])]
        )
        return kept

    return advance


def test_a_raw_state_writes_only_its_new_groups_and_keeps_few_segments():
    for serial in range(1, 61):
        key = page_key("pieces", 1, serial=serial)
        kept = store.advanced_state(key, Kept, advanced_by(b"word %d " % serial * 100, serial))
        assert store.load_state(key, Kept).words() == kept.words()
        segments = list(store._segments(key).iterdir())
        assert len(segments) <= store.MAX_SEGMENTS  # compacted before more
    assert kept.words() == [b"word %d " % serial * 100 for serial in range(41, 61)]
    # One group a change, not the state: a new segment holds what the change made (or, on a
    # compaction, every live group once).
    sizes = sorted(path.stat().st_size for path in segments)
    assert sizes[0] == len(b"word 60 " * 100)
    assert sum(sizes) <= 2 * sum(len(word) for word in kept.words())


def test_a_raw_state_missing_a_segment_starts_again_from_nothing():
    key = page_key("pieces", 2, serial=1)
    store.advanced_state(key, Kept, advanced_by(b"one", 1))
    for segment in store._segments(key).iterdir():
        segment.unlink()
    assert store.load_state(key, Kept).serial == -1


def test_processes_advancing_one_raw_state_at_once_advance_it_once():
    advances = []

    def slow(kept: Kept) -> Kept:
        advances.append(1)
        time.sleep(0.3)  # long enough for every other thread to arrive and wait
        return advanced_by(b"w", 3)(kept)

    key = page_key("pieces", 3, serial=3)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(store.advanced_state(key, Kept, slow).words())) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(advances), results) == (1, [[b"w"]] * 4)
