"""Upstream project pages: fetched, parsed into our own form, kept with their validators.

A page is kept in the page store (``store.save_state``, one copy per node) as an
:class:`UpstreamPage`: the files with upstream's PEP 691/700/714 fields (``hashes``,
``size``, ``upload-time``, ``requires-python``, ``yanked``, ``core-metadata``), the
PEP 792 project status, and upstream's ``ETag`` / ``Last-Modified``. Within
``UPSTREAM_PAGE_TTL`` it is used as it is; after, it is revalidated with a conditional
request (a 304 only restarts its clock). When upstream fails (down, slow, 5xx, a
malformed or oversized page) the last good page is used, and the caller says so
(stale-if-error). ``generation`` moves when the content changes: our rendered pages are
stored under it, so their ETags change exactly then.

Files are listed only with a sha256 (we check every download against it); their URLs are
ours (``/packages/upstream/<project>/<sha256>/<filename>``), and ``files.py`` finds the
upstream URL here again when the file is first downloaded.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin

import orjson
from django.conf import settings
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)

from packages_app.pages import store
from packages_app.simple.builders import API_VERSION
from packages_app.upstream import records
from packages_app.upstream.client import UpstreamError, get_page, index_url

STATE_VERSION = 2
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
# A filename becomes part of our URL and of a storage path: one plain path segment only.
_SAFE_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+!-]*\Z")
FILES_PREFIX = "upstream/"
# Seconds between two attempts at a page while upstream fails (at most UPSTREAM_PAGE_TTL).
RETRY_AFTER = 15


class UpstreamNotFound(Exception):
    """Upstream has no such project."""


@dataclass
class UpstreamFile:
    filename: str
    url: str  # upstream's, absolute
    sha256: str
    requires_python: str | None = None
    yanked: bool | str = False
    size: int | None = None
    upload_time: str | None = None
    metadata_sha256: str | None = None


@dataclass
class UpstreamPage:
    version: int = STATE_VERSION
    name: str = ""
    known: bool = False  # False: never fetched (the fresh state load_state gives)
    status: str = "active"
    status_reason: str = ""
    last_serial: int = 0
    versions: list[str] = field(default_factory=list)
    files: list[UpstreamFile] = field(default_factory=list)
    etag: str = ""
    last_modified: str = ""
    fetched_at: float = 0.0
    generation: int = 0  # our rendered pages' serial: moves when the content changes
    # The last failed fetch (what a process that waited for it reports too).
    failed_at: float = 0.0
    failure: str = ""
    failure_status: int = 502
    missing_at: float = 0.0  # when upstream last answered 404 (then not ``known``)
    # The files' upload times (Unix seconds, sorted; those without one left out), for cool-downs.
    upload_times: list[float] = field(default_factory=list)
    head: bool = False  # True: the page without its files (``whole`` reads them)

    def content(self) -> tuple:
        return (self.status, self.status_reason, self.last_serial, self.versions, self.files)

    def file(self, sha256: str, filename: str) -> UpstreamFile | None:
        for entry in self.files:
            if entry.sha256 == sha256 and entry.filename == filename:
                return entry
        return None


def _key(normalized: str) -> store.PageKey:
    return store.page_key("upstream-state", normalized, serial=0)


def _head_key(normalized: str) -> store.PageKey:
    return store.page_key("upstream-head", normalized, serial=0)


def _save(normalized: str, page: UpstreamPage) -> None:
    """Keep ``page``, and its head: the page without its files, which a warm request reads (a
    big project's whole page takes tens of milliseconds to load; its head, well under one)."""
    store.save_state(_key(normalized), page)
    store.save_state(_head_key(normalized), replace(page, files=[], versions=[], head=True))


def page_url(normalized: str) -> str:
    return index_url().rstrip("/") + f"/{normalized}/"


def kept(normalized: str) -> UpstreamPage:
    """The page kept for ``normalized``, however old (``known`` is False when there is none)."""
    return store.load_state(_key(normalized), UpstreamPage)


def whole(page: UpstreamPage) -> UpstreamPage:
    """``page`` with its files: itself, or the kept page a head (``current(head_only=True)``) stands for."""
    return kept(page.name) if page.head else page


def current(normalized: str, *, refresh: bool = False, head_only: bool = False) -> tuple[UpstreamPage, str | None]:
    """The project's upstream page, and why it is stale (None: current).

    ``refresh``: revalidate even within the TTL (a file not on the kept page).
    ``head_only``: a kept page may come as its head (``head`` True: no ``files`` nor ``versions``;
    ``whole`` reads them), for a caller that may not need them.
    Raises ``UpstreamNotFound``, or ``UpstreamError`` when there is no page to fall back on.
    """
    head = store.load_state(_head_key(normalized), UpstreamPage)
    if not head.head:  # none kept (or kept by a version before heads): the whole page, if any
        head = kept(normalized)
    if not refresh:
        settled = _settled(head, time.time())
        if settled is not None:
            page, stale = settled
            return (page if head_only else whole(page)), stale
    # What this process saw: a fetch that ended after it (by another process) is the one to use.
    seen = max(head.fetched_at, head.failed_at, head.missing_at)

    def done_meanwhile(page: UpstreamPage) -> bool:
        return max(page.fetched_at, page.failed_at, page.missing_at) > seen

    # One request upstream per page at a time, across the node's processes (and nodes, with
    # Redis): the others wait for its result, a page or a failure, rather than ask again.
    with store.single_flight(
        store.page_key("upstream-fetch", normalized, serial=0),
        lambda: done_meanwhile(store.load_state(_head_key(normalized), UpstreamPage)),
    ):
        latest = kept(normalized)
        if done_meanwhile(latest):
            return _outcome(latest)
        try:
            fresh = _fetch(normalized, latest)
        except UpstreamError as error:
            latest.failed_at, latest.failure, latest.failure_status = time.time(), str(error), error.status
            _save(normalized, latest)
            return _outcome(latest)
        except UpstreamNotFound:
            # Remembered for a TTL too: a mistyped name asked a thousand times asks upstream once.
            _save(normalized, UpstreamPage(name=normalized, missing_at=time.time(), generation=latest.generation))
            raise
        fresh.fetched_at = time.time()
        _save(normalized, fresh)
        records.page_fetched(normalized)
        return fresh, None


def _settled(kept: UpstreamPage, now: float) -> tuple[UpstreamPage, str | None] | None:
    """The kept answer while it holds: a page within its TTL, a recent 404, a recent failure."""
    ttl = settings.UPSTREAM_PAGE_TTL
    if kept.known and now - kept.fetched_at < ttl:
        return kept, None
    if kept.missing_at and now - kept.missing_at < ttl:
        raise UpstreamNotFound(kept.name)
    # While upstream fails, ask it again only every few seconds: a slow upstream costs each
    # client its timeout otherwise.
    if kept.failed_at > max(kept.fetched_at, kept.missing_at) and now - kept.failed_at < min(ttl, RETRY_AFTER):
        return _outcome(kept)
    return None


def _outcome(kept: UpstreamPage) -> tuple[UpstreamPage, str | None]:
    """What the last fetch of ``kept`` left: its page (stale, after a failure), or the failure, or a 404."""
    if kept.failed_at > max(kept.fetched_at, kept.missing_at):
        if kept.known:
            return kept, kept.failure
        raise UpstreamError(kept.failure, kept.failure_status)
    if kept.missing_at > kept.fetched_at:
        raise UpstreamNotFound(kept.name)
    return kept, None


def _fetch(normalized: str, kept: UpstreamPage) -> UpstreamPage:
    response = get_page(
        page_url(normalized),
        etag=kept.etag if kept.known else "",
        last_modified=kept.last_modified if kept.known else "",
    )
    if response.status == 304 and kept.known:
        return kept
    if response.status in (404, 410):
        raise UpstreamNotFound(normalized)
    if response.status != 200:
        raise UpstreamError(f"the upstream index answered {response.status}")
    try:
        if "json" in response.content_type:
            parsed = parse_json(response.body, response.url)
        else:
            parsed = parse_html(response.body, response.url)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise UpstreamError(f"the upstream page is malformed ({error})") from None
    parsed.name = normalized
    parsed.known = True
    parsed.etag = response.etag
    parsed.last_modified = response.last_modified
    parsed.upload_times = sorted(
        uploaded for entry in parsed.files if (uploaded := upload_timestamp(entry)) is not None
    )
    if kept.known and kept.content() == parsed.content():
        parsed.generation = kept.generation
    else:
        # The time of the change, in ms: two nodes (whose rendered pages meet in Redis) that saw
        # different contents do not give them the same number, as counters from 1 would.
        parsed.generation = max(kept.generation + 1, int(time.time() * 1000))
    return parsed


# ---------------------------------------------------------------- parsing


def _metadata_hash(value: Any) -> str | None:
    if isinstance(value, dict):
        digest = value.get("sha256")
        return digest.lower() if isinstance(digest, str) and _SHA256.match(digest.lower()) else None
    return None


def parse_json(body: bytes, base_url: str) -> UpstreamPage:
    """A PEP 691 project page (api-version 1.x)."""
    data = orjson.loads(body)
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise ValueError("not a PEP 691 project page")
    api_version = str(data.get("meta", {}).get("api-version", "1.0"))
    if not api_version.startswith("1."):
        raise ValueError(f"unsupported api-version {api_version}")
    page = UpstreamPage()
    serial = data.get("meta", {}).get("_last-serial")
    page.last_serial = serial if isinstance(serial, int) else 0
    status = data.get("project-status") or {}
    page.status = str(status.get("status", "active"))
    page.status_reason = str(status.get("reason", "") or "")
    for item in data["files"]:
        digest = str(item.get("hashes", {}).get("sha256", "")).lower()
        filename = item["filename"]
        if not _SHA256.match(digest) or not isinstance(filename, str) or not _SAFE_FILENAME.match(filename):
            continue  # a file we could not check, or could not name safely: not offered
        yanked = item.get("yanked", False)
        size = item.get("size")
        upload_time = item.get("upload-time")
        metadata = item.get("core-metadata", item.get("data-dist-info-metadata", item.get("dist-info-metadata")))
        requires_python = item.get("requires-python")
        page.files.append(
            UpstreamFile(
                filename=filename,
                url=urldefrag(urljoin(base_url, str(item["url"])))[0],
                sha256=digest,
                requires_python=requires_python if isinstance(requires_python, str) and requires_python else None,
                yanked=yanked if isinstance(yanked, str) and yanked else bool(yanked),
                size=size if isinstance(size, int) and size >= 0 else None,
                upload_time=upload_time if isinstance(upload_time, str) else None,
                metadata_sha256=_metadata_hash(metadata),
            )
        )
    versions = data.get("versions")
    if isinstance(versions, list):
        page.versions = [str(version) for version in versions]
    else:
        page.versions = _versions_of(page.files)
    return page


class _LinksParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.meta: dict[str, str] = {}
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open, self._text = dict(attrs), []
        elif tag == "meta":
            values = dict(attrs)
            if values.get("name") and values.get("content") is not None:
                self.meta[str(values["name"])] = str(values["content"])

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text).strip()))
            self._open = None


def parse_html(body: bytes, base_url: str) -> UpstreamPage:
    """A PEP 503 project page; hashes from the URL fragment, PEP 592/658/714 from data- attributes."""
    parser = _LinksParser()
    parser.feed(body.decode("utf-8"))
    page = UpstreamPage()
    page.status = parser.meta.get("pypi:project-status", "active")
    page.status_reason = parser.meta.get("pypi:project-status-reason", "")
    for attrs, text in parser.anchors:
        href = attrs.get("href") or ""
        url, fragment = urldefrag(urljoin(base_url, href))
        name, _, digest = fragment.partition("=")
        filename = text or url.rsplit("/", 1)[-1]
        if name != "sha256" or not _SHA256.match(digest.lower()) or not _SAFE_FILENAME.match(filename):
            continue
        metadata = attrs.get("data-core-metadata") or attrs.get("data-dist-info-metadata") or ""
        kind, _, metadata_digest = metadata.partition("=")
        yanked = attrs.get("data-yanked")
        page.files.append(
            UpstreamFile(
                filename=filename,
                url=url,
                sha256=digest.lower(),
                requires_python=attrs.get("data-requires-python") or None,
                yanked=False if yanked is None else (yanked or True),
                metadata_sha256=_metadata_hash({kind: metadata_digest}) if kind == "sha256" else None,
            )
        )
    page.versions = _versions_of(page.files)
    return page


def upload_timestamp(entry: UpstreamFile) -> float | None:
    """The file's PEP 700 ``upload-time`` as Unix seconds, or None when it has none we can read."""
    if not entry.upload_time:
        return None
    try:
        moment = datetime.fromisoformat(entry.upload_time)
    except ValueError:
        return None
    if moment.tzinfo is None:  # PEP 700 times are UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def version_of(filename: str) -> str | None:
    """The canonical version a wheel or sdist filename names (None: not one we can read)."""
    try:
        if filename.endswith(".whl"):
            return canonicalize_version(parse_wheel_filename(filename)[1])
        return canonicalize_version(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def _versions_of(files: list[UpstreamFile]) -> list[str]:
    found: dict[str, Any] = {}
    for entry in files:
        try:
            if entry.filename.endswith(".whl"):
                version = parse_wheel_filename(entry.filename)[1]
            else:
                version = parse_sdist_filename(entry.filename)[1]
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
        found.setdefault(str(version), version)
    return sorted(found, key=found.__getitem__)


# ---------------------------------------------------------------- our form


def file_path(normalized: str, entry: UpstreamFile) -> str:
    """The path under ``/packages/`` (and in storage) of an upstream file."""
    return f"{FILES_PREFIX}{normalized}/{entry.sha256}/{entry.filename}"


def project_page(page: UpstreamPage, files_base_url: str) -> dict:
    """The PEP 691 dict our renderers take: upstream's fields, our file URLs."""
    status: dict[str, str] = {"status": page.status}
    if page.status_reason:
        status["reason"] = page.status_reason
    data: dict[str, Any] = {
        "meta": {"api-version": API_VERSION, "_last-serial": page.last_serial},
        "name": page.name,
        "namespaces": None,  # a name in a granted namespace is never taken from upstream
        "project-status": status,
        "versions": [],
        "files": [],
    }
    if page.status == "quarantined":  # PEP 792: no files offered
        return data
    data["versions"] = page.versions
    for entry in page.files:
        core_metadata = {"sha256": entry.metadata_sha256} if entry.metadata_sha256 else False
        item: dict[str, Any] = {
            "filename": entry.filename,
            "url": files_base_url + file_path(page.name, entry),
            "hashes": {"sha256": entry.sha256},
            "requires-python": entry.requires_python,
            "yanked": entry.yanked,
            "core-metadata": core_metadata,
            "data-dist-info-metadata": core_metadata,
            "provenance": None,
        }
        if entry.size is not None:
            item["size"] = entry.size
        if entry.upload_time is not None:
            item["upload-time"] = entry.upload_time
        data["files"].append(item)
    return data
