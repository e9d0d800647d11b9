"""A big page's kept pieces in chunks, each kept plain and compressed, so that a change touches only its chunks.

A project's page (ccxt: 9,264 files, 4.5 MB of JSON) is its pieces in key order, one
per row, JSON pieces separated by commas. ``Chunked`` keeps them in chunks of a few
hundred pieces, and with each chunk its bytes as they stand in the page (JSON and HTML)
and those bytes compressed (``pages.deflate``, each after the chunk before it). A
change re-joins and re-compresses only the chunks its rows fall in (and the one after
them, whose dictionary they are); the page is then the chunks' buffers written end to
end, and its gzip form the chunks' deflate streams framed as one gzip member.

Where chunks end is a function of the keys alone: a chunk ends after each piece whose
key's CRC-32 is a multiple of ``spread`` (content-defined chunking, as rsync's and
backup tools' rolling hashes), so an insertion moves no boundary but its own, and the
chunks, hence the compressed bytes, of a page are the same however it was reached:
built from nothing or advanced change by change, on any node.

Kept raw (``to_raw``/``from_raw``, ``store.Group``): a small header and, per chunk, its
keys, its pieces' end offsets, its bytes and its compressed bytes, in segment files
that a change adds to rather than rewrites. Read back from mapped files they are views
into them: nothing is copied or decoded until a change touches the chunk.
"""

from __future__ import annotations

import bisect
import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import orjson

from packages_app.pages import store
from packages_app.pages.deflate import Buffer, Deflated, deflate

# (order key, JSON piece, HTML piece)
Row = tuple[str, bytes, bytes]
_SEPARATOR = b","


@dataclass
class Chunk:
    """Consecutive pieces: their keys, ends, bytes as in the page, and those compressed."""

    last_key: str
    count: int
    keys: Buffer  # orjson list of the keys
    json_ends: Buffer  # array("q"): each JSON piece's end in ``json`` (after the leading comma, if any)
    html_ends: Buffer  # array("q"): each HTML piece's end in ``html``
    json: Buffer  # a comma first unless this is the first chunk, then the pieces comma-separated
    html: Buffer
    json_z: Deflated | None = None
    html_z: Deflated | None = None
    # Where its buffers are kept, as they are (``store.Group``); None once any of them changed.
    stored: tuple[str, int] | None = None

    def rows(self, first: bool) -> list[Row]:
        keys = orjson.loads(self.keys)
        json_ends, html_ends = array("q"), array("q")
        json_ends.frombytes(self.json_ends)
        html_ends.frombytes(self.html_ends)
        json = memoryview(self.json)[0 if first else 1 :]
        html = memoryview(self.html)
        rows = []
        json_start = html_start = 0
        for key, json_end, html_end in zip(keys, json_ends, html_ends, strict=True):
            rows.append((key, bytes(json[json_start:json_end]), bytes(html[html_start:html_end])))
            json_start, html_start = json_end + 1, html_end
        return rows

    @classmethod
    def of(cls, rows: Sequence[Row], first: bool) -> Chunk:
        json = _SEPARATOR.join(row[1] for row in rows)
        if not first:
            json = _SEPARATOR + json
        json_ends, html_ends = array("q"), array("q")
        end = -1
        for row in rows:
            end += len(row[1]) + 1
            json_ends.append(end)
        end = 0
        for row in rows:
            end += len(row[2])
            html_ends.append(end)
        return cls(
            last_key=rows[-1][0],
            count=len(rows),
            keys=orjson.dumps([row[0] for row in rows]),
            json_ends=json_ends.tobytes(),
            html_ends=html_ends.tobytes(),
            json=json,
            html=b"".join(row[2] for row in rows),
        )

    def same_bytes(self, other: Chunk) -> bool:
        return (
            self.count == other.count
            and self.keys == other.keys
            and self.json == other.json
            and self.html == other.html
        )


@dataclass
class Chunked:
    """A page's pieces in key order, in content-defined chunks, each kept plain and compressed.

    ``spread``: the mean number of pieces per chunk. ``html``: whether the pieces have an HTML
    form to keep compressed (the legacy JSON page has none).
    """

    spread: int = 256
    html: bool = True
    chunks: list[Chunk] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(chunk.count for chunk in self.chunks)

    def rows(self) -> list[Row]:
        return [row for i, chunk in enumerate(self.chunks) for row in chunk.rows(i == 0)]

    def ends_chunk(self, key: str) -> bool:
        return zlib.crc32(key.encode("utf-8")) % self.spread == 0

    # ------------------------------------------------------------ the page

    def json_parts(self) -> list[tuple[Buffer, Deflated]]:
        """The JSON pieces (comma-separated), chunk by chunk, plain and compressed (``deflate.framed``)."""
        return [(chunk.json, _z(chunk.json_z)) for chunk in self.chunks]

    def html_parts(self) -> list[tuple[Buffer, Deflated]]:
        return [(chunk.html, _z(chunk.html_z)) for chunk in self.chunks]

    @property
    def json_bytes(self) -> bytes:
        return b"".join(chunk.json for chunk in self.chunks)

    @property
    def html_bytes(self) -> bytes:
        return b"".join(chunk.html for chunk in self.chunks)

    # ------------------------------------------------------------ changes

    def update(self, changed: Iterable[Row] = (), removed: Iterable[str] = ()) -> None:
        """Put ``changed`` in (a row replaces the one with its key) and drop the rows keyed ``removed``."""
        changes: dict[str, Row | None] = {key: None for key in removed}
        changes.update((row[0], row) for row in changed)
        if not changes:
            return
        old = self.chunks
        if not old:
            self.chunks = self._split(sorted(row for row in changes.values() if row is not None), first=True)
            self._compress(set(range(len(self.chunks))))
            return
        last_keys = [chunk.last_key for chunk in old]
        touched: dict[int, list[str]] = {}
        for key in changes:  # a key past every chunk's last goes to the last chunk
            touched.setdefault(min(bisect.bisect_left(last_keys, key), len(old) - 1), []).append(key)
        chunks: list[Chunk] = []
        i = 0
        while i < len(old):
            if i not in touched:
                chunks.append(old[i])
                i += 1
                continue
            # A run of chunks to join again: from a touched one, until a piece that ends a
            # chunk (a removal may have taken the one that did), or the end.
            rows: dict[str, Row] = {}
            replaced: dict[str, Chunk] = {}
            first = not chunks
            while True:
                rows.update((row[0], row) for row in old[i].rows(i == 0))
                replaced[old[i].last_key] = old[i]
                for key in touched.get(i, ()):
                    change = changes[key]
                    if change is None:
                        rows.pop(key, None)
                    else:
                        rows[key] = change
                i += 1
                if i == len(old) or (rows and self.ends_chunk(max(rows))):
                    break
            for chunk in self._split(sorted(rows.values()), first):
                kept = replaced.get(chunk.last_key)
                # The same bytes as a chunk it replaces: that chunk, with its compressed form.
                chunks.append(kept if kept is not None and kept.same_bytes(chunk) else chunk)
        # A chunk is compressed again when it is new, or when the one before it is not the one
        # that was before it (its dictionary).
        places = {id(chunk): place for place, chunk in enumerate(old)}
        fresh: set[int] = set()
        for place, chunk in enumerate(chunks):
            was = places.get(id(chunk))
            if was is None or (old[was - 1] if was else None) is not (chunks[place - 1] if place else None):
                fresh.add(place)
        self.chunks = chunks
        self._compress(fresh)

    def _split(self, rows: list[Row], first: bool) -> list[Chunk]:
        chunks: list[Chunk] = []
        start = 0
        for end, row in enumerate(rows, 1):
            if self.ends_chunk(row[0]) or end == len(rows):
                chunks.append(Chunk.of(rows[start:end], first and not chunks))
                start = end
        return chunks

    def _compress(self, places: Iterable[int]) -> None:
        for place in sorted(places):
            chunk = self.chunks[place]
            before = self.chunks[place - 1] if place else None
            chunk.json_z = deflate(chunk.json, before.json if before else b"")
            chunk.html_z = deflate(chunk.html, before.html if before else b"") if self.html else None
            chunk.stored = None

    # ------------------------------------------------------------ kept form

    def to_raw(self) -> tuple[list, list[store.Group]]:
        """A header (small, pickled) and each chunk's buffers (``store.save_state``)."""
        header, groups = [], []
        for chunk in self.chunks:
            json_z, html_z = _z(chunk.json_z), chunk.html_z
            blobs = [
                chunk.keys,
                chunk.json_ends,
                chunk.html_ends,
                chunk.json,
                chunk.html,
                json_z.data,
                html_z.data if html_z else b"",
            ]
            header.append(
                (
                    chunk.last_key,
                    chunk.count,
                    json_z.crc,
                    json_z.size,
                    html_z.crc if html_z else 0,
                    html_z.size if html_z else 0,
                )
            )
            groups.append(store.Group(blobs, chunk.stored))
        return [self.spread, self.html, header], groups

    @classmethod
    def from_raw(cls, header: list, groups: Iterable[store.Group], spread: int | None = None) -> Chunked:
        """The chunks kept by ``to_raw``; ValueError if they were cut at another ``spread`` than the
        one asked (chunks from before a change of it would compress otherwise than a new build)."""
        kept_spread, html, entries = header
        if spread is not None and spread != kept_spread:
            raise ValueError(f"chunks of {kept_spread} pieces kept, {spread} asked")
        spread = kept_spread
        chunks = []
        for (last_key, count, json_crc, json_size, html_crc, html_size), group in zip(entries, groups, strict=True):
            keys, json_ends, html_ends, json, html_text, json_z, html_z = group.blobs
            chunks.append(
                Chunk(
                    last_key,
                    count,
                    keys,
                    json_ends,
                    html_ends,
                    json,
                    html_text,
                    Deflated(json_z, json_crc, json_size),
                    Deflated(html_z, html_crc, html_size) if html else None,
                    group.stored,
                )
            )
        return cls(spread, html, chunks)


def _z(deflated: Deflated | None) -> Deflated:
    if deflated is None:
        raise ValueError("a chunk kept without its compressed form")
    return deflated
