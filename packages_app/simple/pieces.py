"""Incremental builds of a project's live simple page (PEP 691 JSON and HTML).

A file row never changes once written, and file and release ids only grow (writers
take turns, ``services.journal``). So each file's rendered pieces, its JSON object
and its HTML line, are kept from the last build with the serial they describe, in
the page store (``store.save_state``, one copy per node). The next build reads the
project's journal entries since that serial and, when they are only additions, yanks
and status changes, queries only the new releases and files and the files of the
releases yanked or unyanked meanwhile; anything else (a deletion, a restored file, a
long history) starts again from nothing. The page is then the kept pieces in order,
framed as the full builder frames it: the same bytes, which a property test holds.

A page of ccxt's size (9,264 files) after one upload thus reads a few rows instead of
every file, and renders one file instead of all of them.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field
from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer

from packages_app import naming
from packages_app.models import File, JournalEntry, Project, Release
from packages_app.pages import deflate, store
from packages_app.services import journal
from packages_app.simple import builders, renderers
from packages_app.simple.chunked import Chunked

# Bump when the pieces' form changes: older states are then never read.
STATE_VERSION = 8
# Files per chunk of the kept pieces, on average (``simple.chunked``): about 120 KB of
# JSON for ccxt's, which ISA-L compresses again in a tenth of a millisecond.
SPREAD = 256
# Changes that add to a page without touching what is kept (status is read anew each build).
_ADDING = frozenset(
    {
        journal.PROJECT_CREATED,
        journal.PROJECT_STATUS_SET,
        journal.RELEASE_CREATED,
        journal.FILE_ADDED,
        journal.ROLE_GRANTED,
        journal.ROLE_REVOKED,
        journal.TOKEN_CREATED,
        journal.TOKEN_REVOKED,
        journal.NAMESPACE_GRANTED,  # the frame's ``namespaces``, built anew each time
        journal.NAMESPACE_REVOKED,
    }
)
# Changes that alter the pieces of one release's files.
_RESTYLING = frozenset({journal.RELEASE_YANKED, journal.RELEASE_UNYANKED})
# Past this many changes since the kept state, reading them costs more than starting again.
MAX_CHANGES = 200
_JSON_FILES_START = b'{"files":['
_JSON_OPTIONS = orjson.OPT_SORT_KEYS


class Releases:
    """The project's releases in version order (sort key, then id), as parallel lists.

    Kept as three buffers (``store.Group``): the ids (``array("q")``), the sort keys and the
    versions (JSON lists; the last is the page's ``versions`` as it is). Each is read only
    when a change needs it, and kept as it was when none changed.
    """

    def __init__(self, group: store.Group | None = None) -> None:
        self._kept = group
        self._ids: array | None = None if group else array("q")
        self._sort_keys: list[str] | None = None if group else []
        self._versions: list[str] | None = None if group else []

    @property
    def ids(self) -> array:
        if self._ids is None:
            self._ids = array("q")
            self._ids.frombytes(self._blob(0))
        return self._ids

    @property
    def sort_keys(self) -> list[str]:
        if self._sort_keys is None:
            self._sort_keys = orjson.loads(self._blob(1))
        return self._sort_keys

    @property
    def versions(self) -> list[str]:
        if self._versions is None:
            self._versions = orjson.loads(self._blob(2))
        return self._versions

    def versions_json(self) -> bytes:
        """The JSON list of the versions, as the page shows them."""
        if self._kept is not None:
            return bytes(self._kept.blobs[2])
        return orjson.dumps(self.versions)

    def _blob(self, place: int):
        if self._kept is None:
            raise ValueError("releases changed: their kept form is gone")
        return self._kept.blobs[place]

    def add(self, new: list[tuple[str, int, str]]) -> None:
        """Put ``new`` (sort key, id, version) in their places."""
        if not new:
            return
        ids, sort_keys, versions = self.ids, self.sort_keys, self.versions
        self._kept = None
        if len(new) > 16:  # from nothing, or many at once: one sort rather than many inserts
            merged = sorted([*zip(sort_keys, ids, versions, strict=True), *new])
            self._sort_keys = [row[0] for row in merged]
            self._ids = array("q", [row[1] for row in merged])
            self._versions = [row[2] for row in merged]
            return
        for sort_key, pk, version in sorted(new):
            place = bisect.bisect_right(sort_keys, sort_key)
            ids.insert(place, pk)
            sort_keys.insert(place, sort_key)
            versions.insert(place, version)

    def group(self) -> store.Group:
        if self._kept is None:
            self._kept = store.Group([self.ids.tobytes(), orjson.dumps(self.sort_keys), orjson.dumps(self.versions)])
        return self._kept


@dataclass
class Pieces:
    """What a project's page is made of, as of ``serial`` (-1: nothing yet)."""

    serial: int = -1
    version: int = STATE_VERSION
    releases: Releases = field(default_factory=Releases)
    # Keyed by the page's order, its release's sort key then the filename (unique).
    files: Chunked = field(default_factory=lambda: Chunked(spread=SPREAD))

    def to_raw(self) -> tuple[Any, list[store.Group]]:
        """Kept raw (``store.save_state``): the bytes of the pieces as they are, never pickled."""
        header, groups = self.files.to_raw()
        return [self.serial, self.version, header], [self.releases.group(), *groups]

    @classmethod
    def from_raw(cls, header: Any, groups: list[store.Group]) -> Pieces:
        serial, version, files = header
        return cls(serial, version, Releases(groups[0]), Chunked.from_raw(files, groups[1:], spread=SPREAD))


# The end of the JSON frame, whose empty ``versions`` (the last key) takes the kept list.
_JSON_VERSIONS_END = b"[]}\n"


def project_body(project: Project, files_base_url: str, renderer: BaseRenderer) -> store.Parts:
    """The live page of a project that offers files, in ``renderer``'s form, from its kept pieces:
    the frame around the kept chunks, plain and gzipped (``pages.deflate``), neither joined."""
    pieces = current_pieces(project, files_base_url)
    page = builders.project_frame(project)
    if renderer.format == "json":
        framed = renderer.render(page)
        if not framed.endswith(b'"versions":' + _JSON_VERSIONS_END):
            raise ValueError("versions are not the last key of the JSON page")
        tail = framed[len(_JSON_FILES_START) : -len(_JSON_VERSIONS_END)] + pieces.releases.versions_json() + b"}\n"
        plain, gzipped = deflate.framed(_JSON_FILES_START, pieces.files.json_parts(), tail)
    else:
        before, after = renderers.project_html_frame(page)
        plain, gzipped = deflate.framed(before.encode(), pieces.files.html_parts(), after.encode())
    return store.Parts(plain, gzipped)


def current_pieces(project: Project, files_base_url: str) -> Pieces:
    """The project's pieces at its serial: the kept ones, advanced, and kept again."""
    key = store.page_key("pieces", project.pk, store.key_tag(files_base_url), serial=project.last_serial)
    return store.advanced_state(key, Pieces, lambda kept: advance(kept, project, files_base_url))


def advance(pieces: Pieces, project: Project, files_base_url: str) -> Pieces:
    """``pieces`` brought to ``project.last_serial`` (a fresh ``Pieces()`` builds from nothing)."""
    releases = Release.objects.filter(project=project)
    all_files = File.objects.filter(release__project=project)
    files = [all_files]
    if pieces.serial >= 0:
        changes = list(
            JournalEntry.objects.of_project(project.normalized_name)
            .between(pieces.serial, project.last_serial)
            .values_list("kind", "version", "filename")[: MAX_CHANGES + 1]
        )
        if len(changes) > MAX_CHANGES or not {kind for kind, *_ in changes} <= _ADDING | _RESTYLING:
            return advance(Pieces(), project, files_base_url)
        # What the journal names, by unique keys: not "ids above the last seen", which
        # would also walk every newer row of every other project.
        created = {naming.canonical_version(version) for kind, version, _ in changes if kind == journal.RELEASE_CREATED}
        restyled = {naming.canonical_version(version) for kind, version, _ in changes if kind in _RESTYLING}
        added = [filename for kind, _, filename in changes if kind == journal.FILE_ADDED]
        releases = releases.filter(canonical_version__in=created) if created else releases.none()
        # Two queries, not one with OR: that one walked every release of the project.
        queries = []
        if added:
            queries.append(all_files.filter(filename__in=added))
        if restyled:
            queries.append(all_files.filter(release__canonical_version__in=restyled))
        files = queries
    _add_releases(pieces, releases)
    rows = []
    for query in files:
        rows += builders.file_rows(query.order_by()).values_list(
            "pk", "release_id", "release__sort_key", *builders.FILE_FIELDS
        )
    # A release written between the queries (after the serial this build is for, as the
    # full builder can see one too): read it rather than leave it out of ``versions``.
    known = pieces.releases.ids if len(rows) < 64 else set(pieces.releases.ids)
    unseen = {release_id for _, release_id, *_ in rows if release_id not in known}
    if unseen:
        _add_releases(pieces, Release.objects.filter(pk__in=unseen))
    changed, seen = [], set()
    for pk, _release_id, sort_key, *fields in rows:
        if pk in seen:  # both added and restyled
            continue
        seen.add(pk)
        entry = builders.file_entry(files_base_url, *fields)
        # "\0" sorts before any character: the key orders as (sort key, filename) would.
        key = f"{sort_key}\0{entry['filename']}"
        changed.append((key, orjson.dumps(entry, option=_JSON_OPTIONS), renderers.file_line(entry).encode()))
    pieces.files.update(changed)
    pieces.serial = project.last_serial
    return pieces


def _add_releases(pieces: Pieces, releases) -> None:
    """Put ``releases`` in their places (version order, then id)."""
    pieces.releases.add(list(releases.values_list("sort_key", "pk", "version")))
