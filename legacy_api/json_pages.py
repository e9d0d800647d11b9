"""Builders for PyPI's legacy JSON API: ``/pypi/<project>/json`` and ``/pypi/<project>/<version>/json``.

Shapes as PyPI sends them (every ``info`` key present, per-file keys exactly
as PyPI's), built from the Release table so releases without files appear in
``releases`` as empty lists. Rows are read with ``values_list`` and turned
into dicts directly: the unversioned page of a project with 4,632 releases
and 9,264 files is built in a handful of queries. Pages are stored by serial
(``packages_app.pages``), so a repeat costs one query: ``build_page`` is what the
view hands to ``serve_page``, under ``page_key``, for a release's page; the unversioned
page is built from kept pieces after a change (``json_pieces``), from these parts.
"""

from __future__ import annotations

from collections import defaultdict

import orjson

from packages_app import naming, timestamps
from packages_app.access import Viewer
from packages_app.links import AbsoluteUrls, absolute_urls
from packages_app.models import File, Project, Release, Role
from packages_app.pages import store
from packages_app.simple.builders import last_change

_DOWNLOADS = {"last_day": -1, "last_week": -1, "last_month": -1}

_FILE_COLUMNS = (
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


def project_to_serve(normalized_name: str, viewer: Viewer) -> Project | None:
    """The project named, with what its pages' keys need; None when it offers no page
    (unknown, quarantined, or restricted and ``viewer`` may not see it)."""
    project = (
        Project.objects.only("name", "normalized_name", "last_serial", "status", "created", "visibility")
        .offering_files()
        .visible_to(viewer)
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
    release = release_to_show(project, version)
    page = project_page(project, release, absolute_urls(base), with_releases=version is None)
    body = orjson.dumps(page, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    return store.make_page(body, last_change(project.last_serial, project.created))


def release_to_show(project: Project, version: str | None) -> Release:
    """The latest release (``version`` None) or the one named; NoSuchRelease when there is none."""
    releases = Release.objects.filter(project=project)
    release = releases.latest() if version is None else releases.by_version(version).first()
    if release is None:
        raise NoSuchRelease
    return release


def project_page(project: Project, release: Release, urls: AbsoluteUrls, *, with_releases: bool) -> dict:
    """The whole page: ``info``, ``last_serial``, ``urls``, ``vulnerabilities``, ``ownership``
    and, for the unversioned page only, ``releases``."""
    release.project = project
    if with_releases:
        files_by_release = files_of(project, urls)
        versions = Release.objects.filter(project=project).newest_first().values_list("pk", "version")
        releases = {version: files_by_release.get(pk, []) for pk, version in versions}
        selected = releases.get(release.version, [])
    else:
        selected = files_of(project, urls, release=release).get(release.pk, [])
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
    # Users only: PyPI's shape has no teams (the metadata API lists them).
    roles = Role.objects.filter(project=project, user__isnull=False)
    rows = roles.owners_first().values_list("role_name", "user__username")
    return {"roles": [{"role": role, "user": user} for role, user in rows], "organization": None}


# The release-level keys PyPI repeats on every file, read with the file's own columns.
_RELEASE_COLUMNS = ("release_id", "release__requires_python", "release__yanked", "release__yanked_reason")


def files_of(
    project: Project, urls: AbsoluteUrls, release: Release | None = None, release_ids: list[int] | None = None
) -> dict[int, list[dict]]:
    """Each release's file entries (by release id, sorted by filename): the project's, ``release``'s
    or those of ``release_ids``."""
    if release is not None:
        files = File.objects.filter(release=release)
    elif release_ids is not None:
        files = File.objects.filter(release_id__in=release_ids)
    else:
        files = File.objects.filter(release__project=project)
    grouped: dict[int, list[dict]] = defaultdict(list)
    if not project.offers_files:
        return grouped  # PEP 792: a quarantined project offers no files
    # No ORDER BY: sorting every file of a big project in SQL cost more than sorting
    # each release's two or three here. (After a change only the releases it touched are
    # read: legacy_api.json_pieces keeps the rest.)
    rows = (
        files.annotate(upload_time_text=timestamps.as_utc_text("upload_time"))
        .order_by()
        .values_list(*_RELEASE_COLUMNS, *_FILE_COLUMNS)
    )
    base = urls.files_base
    for release_id, requires_python, yanked, yanked_reason, *columns in rows:
        grouped[release_id].append(
            {
                **_file_entry(base, *columns),
                "requires_python": requires_python or None,
                "yanked": yanked,
                "yanked_reason": yanked_reason or None,
            }
        )
    for entries_of_release in grouped.values():
        if len(entries_of_release) > 1:
            entries_of_release.sort(key=_by_filename)
    return grouped


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
