"""Incremental builds of a project's legacy JSON page (``/pypi/<project>/json``).

The page lists every release with its files (``releases``), most of it unchanged by
any one change. Each release's part, ``"<version>":[<its files>]``, is kept
(``simple.joined``, keyed by version string, the order ``OPT_SORT_KEYS`` gives) with
the serial it describes, and a build reads the project's journal since: the releases
an addition or a yank names are rendered again, nothing else. Anything else (a
deletion, a status change, a long history) starts afresh. ``info``, ``urls`` and
``ownership`` are small and made anew each time; the page is then the full builder's
bytes, which a property test holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from legacy_api import json_pages
from packages_app import naming
from packages_app.links import AbsoluteUrls, absolute_urls
from packages_app.models import JournalEntry, Project, Release
from packages_app.pages import deflate, store
from packages_app.services import journal
from packages_app.simple.builders import last_change
from packages_app.simple.chunked import Chunked

# Bump when the kept form changes: older states are then never read.
STATE_VERSION = 3
# Releases per chunk of the kept parts, on average (``simple.chunked``): ccxt's two files a
# release make about 1.4 KB each, so about 180 KB a chunk.
SPREAD = 128
# Changes that touch the releases they name, or none (roles: ownership is made anew).
_NAMING_RELEASES = frozenset(
    {journal.RELEASE_CREATED, journal.FILE_ADDED, journal.RELEASE_YANKED, journal.RELEASE_UNYANKED}
)
_UNTOUCHING = frozenset({journal.PROJECT_CREATED, journal.ROLE_GRANTED, journal.ROLE_REVOKED})
MAX_CHANGES = 200
_OPTIONS = orjson.OPT_SORT_KEYS


@dataclass
class ReleasePieces:
    """The ``releases`` of a project's page as of ``serial`` (-1: nothing yet)."""

    serial: int = -1
    version: int = STATE_VERSION
    releases: Chunked = field(default_factory=lambda: Chunked(spread=SPREAD, html=False))  # JSON only

    def to_raw(self) -> tuple[Any, list[store.Group]]:
        """Kept raw (``store.save_state``): the bytes of the parts as they are, never pickled."""
        header, groups = self.releases.to_raw()
        return [self.serial, self.version, header], groups

    @classmethod
    def from_raw(cls, header: Any, groups: list[store.Group]) -> ReleasePieces:
        serial, version, releases = header
        return cls(serial, version, Chunked.from_raw(releases, groups, spread=SPREAD))


def build_page(project: Project, base: str) -> store.Page:
    """The unversioned page with URLs under ``base``, as stored bytes; NoSuchRelease without releases."""
    release = json_pages.release_to_show(project, None)
    body = page_body(project, release, absolute_urls(base))
    return store.make_page(body, last_change(project.last_serial, project.created))


def page_body(project: Project, release: Release, urls: AbsoluteUrls) -> store.Parts:
    """The unversioned page, ``release`` being the latest: the full builder's bytes, as the frame
    around the kept chunks, plain and gzipped (``pages.deflate``), neither joined."""
    pieces = current(project, urls)
    release.project = project
    selected = json_pages.files_of(project, urls, release=release).get(release.pk, [])
    head = orjson.dumps(
        {
            "info": json_pages.info(release, urls),
            "last_serial": project.last_serial,
            "ownership": json_pages.ownership(project),
        },
        option=_OPTIONS,
    )
    tail = orjson.dumps({"urls": selected, "vulnerabilities": []}, option=_OPTIONS)
    plain, gzipped = deflate.framed(
        head[:-1] + b',"releases":{', pieces.releases.json_parts(), b"}," + tail[1:] + b"\n"
    )
    return store.Parts(plain, gzipped)


def current(project: Project, urls: AbsoluteUrls) -> ReleasePieces:
    key = store.page_key("legacy-pieces", project.pk, store.key_tag(urls.files_base), serial=project.last_serial)
    return store.advanced_state(key, ReleasePieces, lambda kept: advance(kept, project, urls))


def advance(pieces: ReleasePieces, project: Project, urls: AbsoluteUrls) -> ReleasePieces:
    """``pieces`` brought to ``project.last_serial`` (a fresh ``ReleasePieces()`` builds from nothing)."""
    releases = Release.objects.filter(project=project)
    if pieces.serial >= 0:
        changes = list(
            JournalEntry.objects.of_project(project.normalized_name)
            .between(pieces.serial, project.last_serial)
            .values_list("kind", "version")[: MAX_CHANGES + 1]
        )
        if len(changes) > MAX_CHANGES or not {kind for kind, _ in changes} <= _NAMING_RELEASES | _UNTOUCHING:
            pieces = ReleasePieces()
        else:
            # By the versions the journal names (every new release is named by its creation).
            named = {naming.canonical_version(version) for kind, version in changes if kind in _NAMING_RELEASES}
            releases = releases.filter(canonical_version__in=named) if named else releases.none()
    rows = list(releases.values_list("pk", "version"))
    some = None if pieces.serial < 0 else [pk for pk, _ in rows]  # from nothing: every file, by project
    files = json_pages.files_of(project, urls, release_ids=some)
    changed = []
    for pk, version in rows:
        part = orjson.dumps({version: files.get(pk, [])}, option=_OPTIONS)[1:-1]  # without the braces
        changed.append((version, part, b""))
    pieces.releases.update(changed)
    pieces.serial = project.last_serial
    return pieces
