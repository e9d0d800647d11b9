"""Builders for the simple repository API: models -> PEP 691-shaped dicts.

One builder per page. The JSON and HTML renderers (``renderers.py``) both
consume the same dict, so the two forms cannot disagree. Builders read with
``values_list`` rather than model instances: a project page for a project
with ten thousand files is built in a few queries and no per-row objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q

from packages_app import namespaces, timestamps
from packages_app.access import ANONYMOUS, Viewer
from packages_app.models import File, JournalEntry, Project, Release
from packages_app.simple.timetravel import AsOf

# PEP 629 version of the JSON we serve: 1.1 (PEP 700), 1.3 (PEP 740), 1.4 (PEP 792),
# 1.5 (PEP 752 namespaces). HTML stays at 1.4 (renderers.HTML_API_VERSION, PEP 833).
API_VERSION = "1.5"


def upload_time_text(moment: datetime) -> str:
    """PEP 700 ``upload-time``: ISO 8601 in UTC with a ``Z``, as PyPI writes it.

    (Fractional seconds only when there are any, as ``isoformat`` does.)
    """
    if moment.tzinfo is not UTC:  # the database hands back UTC: skip the conversion then
        moment = moment.astimezone(UTC) if moment.utcoffset() else moment
    return moment.isoformat().removesuffix("+00:00") + "Z"


def _upload_time_from_text(text: str) -> str:
    seconds, microseconds = timestamps.split_utc_text(text)
    return f"{seconds}.{microseconds:06d}Z" if microseconds else f"{seconds}Z"


def project_status(project: Project) -> dict:
    """PEP 792 ``project-status`` object; the reason only when there is one."""
    status = {"status": project.status}
    if project.status_reason:
        status["reason"] = project.status_reason
    return status


def index_page(
    serial: int, as_of: AsOf | None = None, always_listed: frozenset[str] = frozenset(), viewer: Viewer = ANONYMOUS
) -> dict:
    """The root list (PEP 691 project list), without quarantined projects.

    ``serial`` is the global serial the caller keys the page by; each project
    carries its own ``_last-serial``, which mirrors use to see what changed.
    With ``as_of`` (``timetravel``), only projects with something to show then,
    and those ``always_listed`` (by normalised name: exempt from a cool-down). Restricted
    projects are listed only for a ``viewer`` who may read them.
    """
    projects = Project.objects.offering_files().visible_to(viewer)
    if as_of is not None:
        shown = as_of.projects()
        if always_listed:
            shown |= Q(normalized_name__in=always_listed)
        projects = projects.filter(shown)
    rows = projects.order_by("normalized_name").values_list("name", "last_serial")
    page = index_frame(serial)
    page["projects"] = [{"name": name, "_last-serial": last_serial} for name, last_serial in rows]
    return page


def index_frame(serial: int) -> dict:
    """The root list with no projects yet."""
    return {"meta": {"api-version": API_VERSION, "_last-serial": serial}, "projects": []}


def project_page(project: Project, files_base_url: str, as_of: AsOf | None = None) -> dict:
    """A project's page (PEP 691 project detail).

    ``versions`` comes from the Release table, so releases without files are
    listed. A quarantined project (PEP 792) offers no files and no versions.
    File URLs are ``files_base_url`` + the file's storage path. With ``as_of``
    (``timetravel``), the versions and files of that moment, yanked as they were.
    """
    page: dict[str, Any] = project_frame(project, as_of)
    if not project.offers_files:
        return page
    releases = Release.objects.filter(project=project)
    files = File.objects.filter(release__project=project)
    if as_of is not None:
        releases = releases.filter(as_of.releases())
        files = files.filter(as_of.files())
    page["versions"] = list(releases.order_by("sort_key").values_list("version", flat=True))
    files = file_rows(files).order_by("release__sort_key", "filename")
    rows: Iterable[tuple[Any, ...]]
    if as_of is not None and as_of.yanks_from_journal:
        history = as_of.yank_history(project)
        rows = (
            (*fields, *history.state(version, yanked, reason))
            for *fields, yanked, reason, version in files.values_list(*FILE_FIELDS, "release__canonical_version")
        )
    else:
        rows = files.values_list(*FILE_FIELDS)
    page["files"] = [file_entry(files_base_url, *row) for row in rows]
    return page


def project_frame(project: Project, as_of: AsOf | None = None) -> dict:
    """A project page with no versions and no files yet.

    ``namespaces`` (PEP 752, JSON only): the grants covering it; a snapshot's of its moment,
    a cool-down's of today (it holds back files, not grants).
    """
    at = as_of.moment if as_of is not None and as_of.yanks_from_journal else None
    return {
        "meta": {"api-version": API_VERSION, "_last-serial": project.last_serial},
        "name": project.normalized_name,
        "namespaces": namespaces.project_namespaces(project, at),
        "project-status": project_status(project),
        "versions": [],
        "files": [],
    }


def file_rows(files):
    """``files`` (a File queryset) with the upload time as text, which ``FILE_FIELDS`` reads."""
    return files.annotate(upload_time_text=timestamps.as_utc_text("upload_time"))


# In the order of ``file_entry``'s arguments.
FILE_FIELDS = (
    "filename",
    "path",
    "sha256_digest",
    "requires_python",
    "size",
    "upload_time_text",
    "metadata_sha256",
    "release__yanked",
    "release__yanked_reason",
)


def file_entry(
    base_url: str,
    filename: str,
    path: str,
    sha256: str,
    requires_python: str,
    size: int,
    upload_time_text: str,
    metadata_sha256: str | None,
    yanked: bool,
    yanked_reason: str,
) -> dict:
    core_metadata = {"sha256": metadata_sha256} if metadata_sha256 else False
    return {
        "filename": filename,
        "url": base_url + path,
        "hashes": {"sha256": sha256},
        "requires-python": requires_python or None,
        # PEP 592/691: the reason when there is one, else a plain boolean.
        "yanked": (yanked_reason or True) if yanked else False,
        "size": size,
        "upload-time": _upload_time_from_text(upload_time_text),
        # PEP 714 name, plus the key PyPI still sends for clients of its PEP 658
        # rollout; never ``dist-info-metadata``, which crashes pip 22.3-23.1.
        "core-metadata": core_metadata,
        "data-dist-info-metadata": core_metadata,
        "provenance": None,
    }


def last_change(serial: int, fallback: datetime) -> datetime:
    """When the change with ``serial`` happened: a page's ``Last-Modified``."""
    moment = JournalEntry.objects.submitted_at(serial)
    return moment or fallback
