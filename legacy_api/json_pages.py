"""Builders for PyPI's legacy JSON API: ``/pypi/<project>/json`` and ``/pypi/<project>/<version>/json``.

Shapes as PyPI sends them (every ``info`` key present, per-file keys exactly
as PyPI's), built from the Release table so releases without files appear in
``releases`` as empty lists. Rows are read with ``values_list`` and turned
into dicts directly: the unversioned page of a project with 4,632 releases
and 9,264 files is built in a handful of queries. Pages are stored by serial
(``packages_app.pages``), so a repeat costs one query: ``build_page`` is what the
view hands to ``serve_page``, under ``page_key``.
"""

from __future__ import annotations

import threading
from collections import defaultdict

import orjson

from packages_app import naming, timestamps
from packages_app.links import AbsoluteUrls, absolute_urls
from packages_app.models import File, Project, Release, Role
from packages_app.pages import store
from packages_app.simple.builders import last_change

_DOWNLOADS = {"last_day": -1, "last_week": -1, "last_month": -1}

_FILE_COLUMNS = (
    "pk",
    "filename",
    "path",
    "packagetype",
    "python_version",
    "size",
    "md5_digest",
    "sha256_digest",
    "blake2_256_digest",
    "upload_time_text",
    "comment_text",
    "metadata_sha256",
)


class NoSuchRelease(Exception):
    """The page asked for has no release to show: a 404, and nothing stored."""


def project_to_serve(normalized_name: str) -> Project | None:
    """The project named, with what its pages' keys need; None when it offers no page (unknown, quarantined)."""
    project = (
        Project.objects.only("name", "normalized_name", "last_serial", "status", "created")
        .offering_files()
        .by_name(normalized_name)
        .first()
    )
    return project


def page_key(project: Project, version: str | None, base: str) -> store.PageKey:
    """A page changes with the project's serial; one is stored per version asked and per URL base."""
    wanted = "" if version is None else naming.canonical_version(version)
    return store.page_key("legacy-json", project.pk, wanted, store.key_tag(base), serial=project.last_serial)


def build_page(project: Project, version: str | None, base: str) -> store.Page:
    """The unversioned page (``version`` None) or one release's, with URLs under ``base``, as stored bytes.

    NoSuchRelease when there is no release to show.
    """
    releases = Release.objects.filter(project=project)
    release = releases.latest() if version is None else releases.by_version(version).first()
    if release is None:
        raise NoSuchRelease
    page = project_page(project, release, absolute_urls(base), with_releases=version is None)
    body = orjson.dumps(page, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    return store.make_page(body, last_change(project.last_serial, project.created))


def project_page(project: Project, release: Release, urls: AbsoluteUrls, *, with_releases: bool) -> dict:
    """The whole page: ``info``, ``last_serial``, ``urls``, ``vulnerabilities``, ``ownership``
    and, for the unversioned page only, ``releases``."""
    release.project = project
    if with_releases:
        files_by_release = _files_of(project, urls)
        versions = Release.objects.filter(project=project).newest_first().values_list("pk", "version")
        releases = {version: files_by_release.get(pk, []) for pk, version in versions}
        selected = releases.get(release.version, [])
    else:
        selected = _files_of(project, urls, release=release).get(release.pk, [])
    page = {
        "info": info(release, urls),
        "last_serial": project.last_serial,
        "urls": selected,
        "vulnerabilities": [],
        "ownership": ownership(project),
    }
    if with_releases:
        page["releases"] = releases
    return page


def info(release: Release, urls: AbsoluteUrls) -> dict:
    project = release.project
    project_page_url = urls.project_page.format(project.normalized_name)
    return {
        "author": release.author,
        "author_email": release.author_email,
        "bugtrack_url": None,
        "classifiers": list(release.classifiers),
        "description": release.description,
        "description_content_type": release.description_content_type or None,
        "docs_url": None,
        "download_url": release.download_url,
        "downloads": dict(_DOWNLOADS),
        "dynamic": list(release.dynamic) or None,
        "home_page": release.home_page,
        "keywords": release.keywords,
        "license": release.license,
        "license_expression": release.license_expression or None,
        "license_files": list(release.license_files) or None,
        "maintainer": release.maintainer,
        "maintainer_email": release.maintainer_email,
        "name": project.name,
        "package_url": project_page_url,
        "platform": ", ".join(release.platform) or None,
        "project_url": project_page_url,
        "project_urls": dict(release.project_urls) or None,
        "provides_extra": list(release.provides_extra) or None,
        "release_url": urls.release_page.format(project.normalized_name, release.version),
        "requires_dist": list(release.requires_dist) or None,
        "requires_python": release.requires_python,
        "summary": release.summary,
        "version": release.version,
        "yanked": release.yanked,
        "yanked_reason": release.yanked_reason or None,
    }


def ownership(project: Project) -> dict:
    """Roles, Owners first then by user name, as PyPI's ``ownership`` (no organisations here)."""
    rows = Role.objects.filter(project=project).owners_first().values_list("role_name", "user__username")
    return {"roles": [{"role": role, "user": user} for role, user in rows], "organization": None}


# What a file row says never changes once written (bytes are content-addressed and
# filenames are never reused), so each process keeps the file-level part of every
# entry it has built: after a change only new files are read in full, and the
# release-level keys (which a yank does change) are added afresh. Bounded; cleared
# whole when full, which costs one slower build. Server threads share it: a build
# works from its own copy of the entries it needs, so a clear (its own or another
# thread's) cannot take them away mid-build, and the lock keeps the bound exact.
_ENTRIES: dict[tuple[str, int], dict] = {}
_ENTRIES_LOCK = threading.Lock()
_MAX_ENTRIES = 200_000
_RELEASE_COLUMNS = ("pk", "release_id", "release__requires_python", "release__yanked", "release__yanked_reason")


def forget_file_entries() -> None:
    with _ENTRIES_LOCK:
        _ENTRIES.clear()


def _files_of(project: Project, urls: AbsoluteUrls, release: Release | None = None) -> dict[int, list[dict]]:
    files = File.objects.filter(release__project=project) if release is None else File.objects.filter(release=release)
    grouped: dict[int, list[dict]] = defaultdict(list)
    if not project.offers_files:
        return grouped  # PEP 792: a quarantined project offers no files
    # No ORDER BY: sorting every file of a big project in SQL cost more than sorting
    # each release's two or three here.
    rows = list(files.order_by().values_list(*_RELEASE_COLUMNS))
    entries = _file_entries(urls.files_base, [row[0] for row in rows])
    for pk, release_id, requires_python, yanked, yanked_reason in rows:
        entry = entries.get(pk)
        if entry is None:  # deleted between the two reads (they are not one transaction)
            continue
        grouped[release_id].append(
            {
                **entry,
                # Release-level keys, which PyPI repeats on every file.
                "requires_python": requires_python or None,
                "yanked": yanked,
                "yanked_reason": yanked_reason or None,
            }
        )
    for entries_of_release in grouped.values():
        if len(entries_of_release) > 1:
            entries_of_release.sort(key=_by_filename)
    return grouped


def _file_entries(base: str, pks: list[int]) -> dict[int, dict]:
    """The file-level entry of each file in ``pks``, from the process's cache or read once."""
    entries = {}
    missing = []
    for pk in pks:
        entry = _ENTRIES.get((base, pk))
        if entry is None:
            missing.append(pk)
        else:
            entries[pk] = entry
    if not missing:
        return entries
    full = (
        File.objects.filter(pk__in=missing)
        .annotate(upload_time_text=timestamps.as_utc_text("upload_time"))
        .order_by()
        .values_list(*_FILE_COLUMNS)
    )
    read = {pk: _file_entry(base, *columns) for pk, *columns in full}
    entries.update(read)
    with _ENTRIES_LOCK:
        if len(_ENTRIES) + len(read) > _MAX_ENTRIES:
            _ENTRIES.clear()
        _ENTRIES.update(((base, pk), entry) for pk, entry in read.items())
    return entries


def _by_filename(entry: dict) -> str:
    return entry["filename"]


def _file_entry(
    files_base: str,
    filename: str,
    path: str,
    packagetype: str,
    python_version: str,
    size: int,
    md5: str,
    sha256: str,
    blake2_256: str,
    upload_time_text: str,
    comment_text: str,
    metadata_sha256: str | None,
) -> dict:
    seconds, microseconds = timestamps.split_utc_text(upload_time_text)
    return {
        "comment_text": comment_text or None,
        "core-metadata": {"sha256": metadata_sha256} if metadata_sha256 else False,
        "digests": {"blake2b_256": blake2_256, "md5": md5, "sha256": sha256},
        "downloads": -1,
        "filename": filename,
        "has_sig": False,
        "md5_digest": md5,
        "packagetype": packagetype,
        "python_version": python_version,
        "size": size,
        "upload_time": seconds,
        "upload_time_iso_8601": f"{seconds}.{microseconds:06d}Z",
        "url": files_base + path,
    }
