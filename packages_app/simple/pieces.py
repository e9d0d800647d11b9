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
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db.models import Q
from rest_framework.renderers import BaseRenderer

from packages_app import naming
from packages_app.models import File, JournalEntry, Project, Release
from packages_app.pages import deflate, store
from packages_app.services import journal
from packages_app.simple import builders, renderers
from packages_app.simple.chunked import Chunked

# Bump when the pieces' form changes: older states are then never read.
STATE_VERSION = 7
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


@dataclass
class Pieces:
    """What a project's page is made of, as of ``serial`` (-1: nothing yet)."""

    serial: int = -1
    version: int = STATE_VERSION
    # The releases in version order (sort key), as parallel lists: quick to store and read.
    release_ids: list[int] = field(default_factory=list)
    release_sort_keys: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    # Keyed by the page's order, its release's sort key then the filename (unique).
    files: Chunked = field(default_factory=lambda: Chunked(spread=SPREAD))
    # The releases as kept (their group of buffers), to keep again as they are when unchanged.
    _releases_kept: store.Group | None = field(default=None, repr=False, compare=False)

    def to_raw(self) -> tuple[Any, list[store.Group]]:
        """Kept raw (``store.save_state``): the bytes of the pieces as they are, never pickled."""
        header, groups = self.files.to_raw()
        releases = orjson.dumps([self.release_ids, self.release_sort_keys, self.versions])
        kept = self._releases_kept
        if kept is None or kept.blobs[0] != releases:
            kept = store.Group([releases])
        return [self.serial, self.version, header], [kept, *groups]

    @classmethod
    def from_raw(cls, header: Any, groups: list[store.Group]) -> Pieces:
        serial, version, files = header
        release_ids, release_sort_keys, versions = orjson.loads(groups[0].blobs[0])
        pieces = cls(serial, version, release_ids, release_sort_keys, versions, Chunked.from_raw(files, groups[1:]))
        pieces._releases_kept = groups[0]
        return pieces


def project_body(project: Project, files_base_url: str, renderer: BaseRenderer) -> store.Parts:
    """The live page of a project that offers files, in ``renderer``'s form, from its kept pieces:
    the frame around the kept chunks, plain and gzipped (``pages.deflate``), neither joined."""
    pieces = current_pieces(project, files_base_url)
    page = builders.project_frame(project)
    page["versions"] = pieces.versions
    if renderer.format == "json":
        framed = renderer.render(page)
        plain, gzipped = deflate.framed(_JSON_FILES_START, pieces.files.json_parts(), framed[len(_JSON_FILES_START) :])
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
    files = File.objects.filter(release__project=project)
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
        releases = releases.filter(canonical_version__in=created)
        files = files.filter(Q(filename__in=added) | Q(release__canonical_version__in=restyled))
        if not created:
            releases = releases.none()
        if not added and not restyled:
            files = files.none()
    sort_keys = _add_releases(pieces, releases)
    rows = list(builders.file_rows(files.order_by()).values_list("pk", "release_id", *builders.FILE_FIELDS))
    # A release written between the queries (after the serial this build is for, as the
    # full builder can see one too): read it rather than fail on its files.
    unseen = {release_id for _, release_id, *_ in rows} - sort_keys.keys()
    if unseen:
        sort_keys = _add_releases(pieces, Release.objects.filter(pk__in=unseen))
    changed = []
    for _pk, release_id, *fields in rows:
        entry = builders.file_entry(files_base_url, *fields)
        # "\0" sorts before any character: the key orders as (sort key, filename) would.
        key = f"{sort_keys[release_id]}\0{entry['filename']}"
        changed.append((key, orjson.dumps(entry, option=_JSON_OPTIONS), renderers.file_line(entry).encode()))
    pieces.files.update(changed)
    pieces.serial = project.last_serial
    return pieces


def _add_releases(pieces: Pieces, releases) -> dict[int, str]:
    """Put ``releases`` in their places (version order, then id); every release's sort key by id."""
    new = sorted((sort_key, pk, version) for pk, sort_key, version in releases.values_list("pk", "sort_key", "version"))
    if len(new) > 16:  # from nothing, or many at once: one sort rather than many inserts
        merged = sorted([*zip(pieces.release_sort_keys, pieces.release_ids, pieces.versions, strict=True), *new])
        pieces.release_sort_keys = [row[0] for row in merged]
        pieces.release_ids = [row[1] for row in merged]
        pieces.versions = [row[2] for row in merged]
    else:
        for sort_key, pk, version in new:
            place = bisect.bisect_right(pieces.release_sort_keys, sort_key)
            pieces.release_ids.insert(place, pk)
            pieces.release_sort_keys.insert(place, sort_key)
            pieces.versions.insert(place, version)
    return dict(zip(pieces.release_ids, pieces.release_sort_keys, strict=True))
