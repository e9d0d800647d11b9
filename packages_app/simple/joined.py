"""Pieces of a page kept in page order, already joined as the page joins them.

A big page (a project's 9,264 files, a root list of 100,000 projects) is made of many
small pieces, each the rendering of one row. ``Joined`` keeps them as a few big
objects: the JSON pieces joined with commas, the HTML pieces end to end, each piece's
end offset, and each piece's id and order key. Storing it (pickle) and reading it back
is then a copy of bytes, assembling the page is a concatenation, and replacing,
adding or dropping one piece is a splice: never a pass over every row in Python.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

# (order key, id, JSON piece, HTML piece)
Row = tuple[str, Hashable, bytes, str]
# Past this share of the pieces changed at once, one merge beats that many splices.
_SPLICE_SHARE = 0.05


def _offsets() -> array:
    return array("q")


@dataclass
class Joined:
    # Order keys, sorted: the page's order (unique, so a piece's place is its key's).
    keys: list[str] = field(default_factory=list)
    ids: list[Hashable] = field(default_factory=list)
    json: bytes = b""  # the JSON pieces, comma-separated
    json_ends: array = field(default_factory=_offsets)
    html: str = ""  # the HTML pieces, end to end
    html_ends: array = field(default_factory=_offsets)

    def __len__(self) -> int:
        return len(self.keys)

    def rows(self) -> list[Row]:
        return [
            (key, id_, self._json_piece(i), self._html_piece(i))
            for i, (key, id_) in enumerate(zip(self.keys, self.ids, strict=True))
        ]

    def html_of(self, key: str) -> str | None:
        i = self._find(key)
        return None if i is None else self._html_piece(i)

    def update(self, changed: Iterable[Row] = (), removed: Iterable[str] = ()) -> None:
        """Put ``changed`` in (a row replaces the one with its key) and drop the rows keyed ``removed``."""
        changed = sorted(changed)
        removed = [key for key in removed if self._find(key) is not None]  # absent keys: nothing to drop
        if len(changed) + len(removed) > _SPLICE_SHARE * len(self) + 8:
            dropped = {row[0] for row in changed} | set(removed)
            kept = [row for row in self.rows() if row[0] not in dropped]
            self._set(sorted(kept + changed))
            return
        for key in removed:
            place = self._find(key)
            if place is not None:
                self._delete(place)
        for row in changed:
            i = bisect.bisect_left(self.keys, row[0])
            if i < len(self.keys) and self.keys[i] == row[0]:
                self._replace(i, row)
            else:
                self._insert(i, row)

    # ------------------------------------------------------------ offsets

    def _find(self, key: str) -> int | None:
        i = bisect.bisect_left(self.keys, key)
        return i if i < len(self.keys) and self.keys[i] == key else None

    def _json_start(self, i: int) -> int:
        return 0 if i == 0 else self.json_ends[i - 1] + 1  # + 1: the comma between

    def _json_piece(self, i: int) -> bytes:
        return self.json[self._json_start(i) : self.json_ends[i]]

    def _html_start(self, i: int) -> int:
        return 0 if i == 0 else self.html_ends[i - 1]

    def _html_piece(self, i: int) -> str:
        return self.html[self._html_start(i) : self.html_ends[i]]

    def _set(self, rows: list[Row]) -> None:
        self.keys = [row[0] for row in rows]
        self.ids = [row[1] for row in rows]
        self.json = b",".join(row[2] for row in rows)
        self.json_ends = array("q")
        end = -1
        for row in rows:
            end += len(row[2]) + 1
            self.json_ends.append(end)
        self.html = "".join(row[3] for row in rows)
        self.html_ends = array("q")
        end = 0
        for row in rows:
            end += len(row[3])
            self.html_ends.append(end)

    @staticmethod
    def _shift(ends: array, start: int, delta: int) -> None:
        if delta:
            ends[start:] = array("q", [end + delta for end in ends[start:]])

    def _replace(self, i: int, row: Row) -> None:
        key, id_, json, html = row
        self.ids[i] = id_
        start, end = self._json_start(i), self.json_ends[i]
        self.json = self.json[:start] + json + self.json[end:]
        self._shift(self.json_ends, i, len(json) - (end - start))
        start, end = self._html_start(i), self.html_ends[i]
        self.html = self.html[:start] + html + self.html[end:]
        self._shift(self.html_ends, i, len(html) - (end - start))

    def _insert(self, i: int, row: Row) -> None:
        key, id_, json, html = row
        count = len(self.keys)
        if count == 0:
            self._set([row])
            return
        if i < count:  # before piece i: the new piece and its comma
            start = self._json_start(i)
            self.json = self.json[:start] + json + b"," + self.json[start:]
            self._shift(self.json_ends, i, len(json) + 1)
            self.json_ends.insert(i, start + len(json))
        else:  # last: a comma, then the new piece
            self.json = self.json + b"," + json
            self.json_ends.append(len(self.json))
        start = self._html_start(i)
        self.html = self.html[:start] + html + self.html[start:]
        self._shift(self.html_ends, i, len(html))
        self.html_ends.insert(i, start + len(html))
        self.keys.insert(i, key)
        self.ids.insert(i, id_)

    def _delete(self, i: int) -> None:
        count = len(self.keys)
        if count == 1:
            self._set([])
            return
        start, end = self._json_start(i), self.json_ends[i]
        if i < count - 1:  # the piece and the comma after it
            self.json = self.json[:start] + self.json[end + 1 :]
            self._shift(self.json_ends, i + 1, -(end + 1 - start))
        else:  # the comma before it and the piece
            self.json = self.json[: start - 1]
        del self.json_ends[i]
        start, end = self._html_start(i), self.html_ends[i]
        self.html = self.html[:start] + self.html[end:]
        self._shift(self.html_ends, i + 1, -(end - start))
        del self.html_ends[i]
        del self.keys[i]
        del self.ids[i]
