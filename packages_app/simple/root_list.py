"""Incremental builds of the live root list (``/simple/``).

Every change anywhere moves the global serial, which the JSON root names (its
``_last-serial``, and each project's), so that page is built again after any upload;
but only the projects the change touched differ. Each project's JSON object and
HTML line are kept (``joined.Joined``, keyed by normalised name) with the serial they
describe, and a build reads the journal since then: the names it mentions are read
again (a project in, out, respelled, or with a new serial), nothing else.

The HTML root names no serial: it changes only when a project comes or goes or is
respelled. ``list_serial`` is the last serial that changed it, and the HTML page is
stored under that serial, so an upload to an existing project leaves it (and its
ETag) as it was. A small marker per global serial says which it is, so that serving
the page reads a few bytes, not the kept pieces.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson
from rest_framework.renderers import BaseRenderer

from packages_app.models import JournalEntry, Project
from packages_app.pages import store
from packages_app.simple import renderers
from packages_app.simple.joined import Joined

# Bump when the kept form changes: older states are then never read.
STATE_VERSION = 1
# Past this many changes since the kept state, reading them costs more than starting again.
MAX_CHANGES = 2000
_JSON_OPTIONS = orjson.OPT_SORT_KEYS
_JSON_PROJECTS_END = b"]}\n"


@dataclass
class RootPieces:
    """The root list's pieces as of ``serial`` (-1: nothing yet)."""

    serial: int = -1
    version: int = STATE_VERSION
    # The last serial that changed the HTML form.
    list_serial: int = 0
    projects: Joined = field(default_factory=Joined)


def json_body(
    serial: int,
    project_url: str,
    renderer: BaseRenderer,
    frame: dict,
    restricted_ids: frozenset[int] = frozenset(),
    proxied: Sequence[str] = (),
) -> bytes:
    """The PEP 691 root at ``serial``: ``frame`` (the page with no projects) around the kept pieces,
    with the restricted projects ``restricted_ids`` among them (those a viewer may see) and the
    ``proxied`` projects (upstream.records.listed_names)."""
    projects = _listed(serial, project_url, restricted_ids, proxied)
    framed = renderer.render(frame)
    end = len(framed) - len(_JSON_PROJECTS_END)
    return framed[:end] + projects.json + framed[end:]


def html_body(
    serial: int,
    project_url: str,
    frame: dict,
    restricted_ids: frozenset[int] = frozenset(),
    proxied: Sequence[str] = (),
) -> bytes:
    projects = _listed(serial, project_url, restricted_ids, proxied)
    return renderers.render_index_html(frame, project_url, projects.html).encode("utf-8")


def _listed(serial: int, project_url: str, restricted_ids: frozenset[int], proxied: Sequence[str]) -> Joined:
    """Every reader's pieces, and a viewer's restricted projects and the proxied ones spliced in: a
    copy of bytes and a few splices, not a build of the whole list (the kept pieces are shared,
    so they are copied)."""
    shared = current(serial, project_url).projects
    rows = []
    if restricted_ids:
        rows += _rows(Project.objects.offering_files().filter(pk__in=restricted_ids), project_url)
    # A proxied project names no serial of ours; a local one of the same name always wins.
    rows += [
        (name, name, orjson.dumps({"name": name}), renderers.project_line(name, project_url))
        for name in proxied
        if shared.html_of(name) is None
    ]
    if not rows:
        return shared
    listed = Joined(
        keys=list(shared.keys),
        ids=list(shared.ids),
        json=shared.json,
        json_ends=array(shared.json_ends.typecode, shared.json_ends),
        html=shared.html,
        html_ends=array(shared.html_ends.typecode, shared.html_ends),
    )
    listed.update(rows)
    return listed


def _rows(projects, project_url: str) -> list:
    return [
        (normalized, normalized, _json_piece(name, last_serial), renderers.project_line(name, project_url))
        for normalized, name, last_serial in projects.values_list("normalized_name", "name", "last_serial")
    ]


def list_serial(serial: int, project_url: str) -> int:
    """The serial the HTML root is kept under at global ``serial`` (the last that changed it)."""
    kept = store.newest_state(_marker_key(serial, project_url))
    if kept is not None and kept[0] == serial:
        return int(kept[1])
    return current(serial, project_url).list_serial


def current(serial: int, project_url: str) -> RootPieces:
    """The root's pieces at ``serial``: the kept ones, advanced, and kept again."""
    key = store.page_key("root-pieces", store.key_tag(project_url), serial=serial)

    def advance_and_mark(kept: RootPieces) -> RootPieces:
        advanced = advance(kept, serial, project_url)
        store.keep_state(_marker_key(serial, project_url), str(advanced.list_serial).encode())
        return advanced

    return store.advanced_state(key, RootPieces, advance_and_mark)


def advance(pieces: RootPieces, serial: int, project_url: str) -> RootPieces:
    """``pieces`` brought to ``serial`` (a fresh ``RootPieces()`` builds from nothing)."""
    # Every reader's page: restricted projects are added per viewer (views.ProjectListView).
    projects = Project.objects.offering_files().open_to_index()
    names: set[str] = set()
    if pieces.serial >= 0:
        mentioned = list(
            JournalEntry.objects.between(pieces.serial, serial).values_list("normalized_name", flat=True)[
                : MAX_CHANGES + 1
            ]
        )
        if len(mentioned) > MAX_CHANGES:
            pieces = RootPieces()
        else:
            names = set(mentioned) - {""}  # "": a change to no project (a token)
            projects = projects.filter(normalized_name__in=names)
    rows = _rows(projects, project_url)
    if pieces.serial < 0:
        pieces.projects.update(rows)
        pieces.list_serial = serial
    else:
        listed = {row[0] for row in rows}
        removed = [name for name in names - listed if pieces.projects.html_of(name) is not None]
        if removed or any(pieces.projects.html_of(row[0]) != row[3] for row in rows):
            pieces.list_serial = serial
        pieces.projects.update(rows, removed)
    pieces.serial = serial
    return pieces


def _json_piece(name: str, last_serial: int) -> bytes:
    return orjson.dumps({"name": name, "_last-serial": last_serial}, option=_JSON_OPTIONS)


def _marker_key(serial: int, project_url: str) -> store.PageKey:
    return store.page_key("root-list-serial", store.key_tag(project_url), serial=serial)
