"""The web UI's pages of a project served from the upstream index (``UPSTREAM_INDEX_URL``).

A name that no local project holds goes through what ``/simple/<name>/`` goes through: the
guard (blocked prefixes, granted namespaces, the allow-list), the one fetch at a time, the
kept page when upstream fails, and the cool-downs. So a page shows what an installer is
offered here, no more: held-back files are not listed, and a refused name is a 404.

Local wins as on the simple API: a name held by a local project, whether or not the viewer
may see it, is never looked up upstream (a non-member gets the same 404 as for any unknown
name, and upstream is not asked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

from packages_app import links, upstream
from packages_app.models import Project
from packages_app.naming import normalize_name
from packages_app.simple import timetravel
from packages_app.upstream import cooldown, pages
from packages_app.upstream import views as upstream_views
from packages_app.web import install

RELEASES_PAGE_SIZE = 50


@dataclass(frozen=True)
class ProxiedProject:
    """What the templates read of a project (the names a local ``Project`` has for them)."""

    name: str
    normalized_name: str
    status: str
    status_reason: str

    @property
    def offers_files(self) -> bool:
        return self.status != "quarantined"


@dataclass
class ProxiedFile:
    entry: pages.UpstreamFile
    path: str  # under /packages/

    @property
    def uploaded(self) -> datetime | None:
        seconds = pages.upload_timestamp(self.entry)
        return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None

    @property
    def yanked_reason(self) -> str:
        return self.entry.yanked if isinstance(self.entry.yanked, str) else ""


@dataclass
class ProxiedRelease:
    version: str
    files: list[ProxiedFile] = field(default_factory=list)

    # Named as a local release's fields, so both kinds of page share their templates.
    @property
    def created(self) -> datetime | None:
        return min((file.uploaded for file in self.files if file.uploaded), default=None)

    @property
    def file_count(self) -> int:
        return len(self.files)

    @property
    def yanked(self) -> bool:
        """PEP 592 yanks files; a release reads as yanked when every one of its files is."""
        return bool(self.files) and all(file.entry.yanked for file in self.files)

    @property
    def yanked_reason(self) -> str:
        return next((file.yanked_reason for file in self.files if file.yanked_reason), "")

    @property
    def is_prerelease(self) -> bool:
        parsed = _parsed(self.version)
        return parsed is not None and parsed.is_prerelease

    @property
    def requires_python(self) -> str | None:
        return next((file.entry.requires_python for file in self.files if file.entry.requires_python), None)


def _parsed(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def releases_of(page: pages.UpstreamPage) -> list[ProxiedRelease]:
    """The page's versions, newest first (versions no installer can read last), each with its files."""
    by_canonical: dict[str, ProxiedRelease] = {}
    for version in page.versions:
        by_canonical.setdefault(canonicalize_version(version), ProxiedRelease(version))
    for entry in page.files:
        canonical = pages.version_of(entry.filename)
        if canonical is None:
            continue
        release = by_canonical.setdefault(canonical, ProxiedRelease(canonical))
        release.files.append(ProxiedFile(entry, pages.file_path(page.name, entry)))
    releases = list(by_canonical.values())
    releases.sort(key=lambda release: (_parsed(release.version) is not None, _parsed(release.version) or Version("0")))
    releases.reverse()
    return releases


def latest_of(releases: list[ProxiedRelease]) -> ProxiedRelease | None:
    """What a plain ``pip install`` picks: the newest final release with a file not yanked."""
    installable = [r for r in releases if r.files and not r.yanked and _parsed(r.version) is not None]
    finals = [r for r in installable if not r.is_prerelease]
    shown = finals or installable
    return shown[0] if shown else None


def _served(request: HttpRequest, name: str) -> tuple[pages.UpstreamPage, str | None] | HttpResponse:
    """Upstream's page of ``name`` as the simple API offers it (cool-downs applied), or the answer instead."""
    normalized = normalize_name(name)
    if not upstream.enabled() or Project.objects.by_name(normalized).exists():
        raise Http404(f"No project named {name!r}.")
    answer = upstream_views.project_page(normalized)
    if isinstance(answer, HttpResponse):
        if answer.status_code == 404:
            raise Http404(f"No project named {name!r}.")
        return render(
            request,
            "web/upstream_unavailable.html",
            {"name": normalized, "reason": answer.content.decode()},
            status=answer.status_code,
        )
    page, stale = answer
    return cooldown.offered(pages.whole(page), cooldown.cutoff(normalized, timetravel.live())), stale


def _project(page: pages.UpstreamPage) -> ProxiedProject:
    return ProxiedProject(page.name, page.name, page.status, page.status_reason)


def project_page(request: HttpRequest, name: str) -> HttpResponse:
    served = _served(request, name)
    if isinstance(served, HttpResponse):
        return served
    page, stale = served
    if name != page.name:
        return redirect("web:project", page.name, permanent=True)
    releases = releases_of(page) if page.status != "quarantined" else []
    latest = latest_of(releases)
    context = {
        "project": _project(page),
        "latest": latest,
        "release_count": len(releases),
        "file_count": sum(len(release.files) for release in releases),
        "page": Paginator(releases, RELEASES_PAGE_SIZE).get_page(request.GET.get("page")),
        "stale": stale,
        "held_back": cooldown.cutoff(page.name, timetravel.live()),
        "commands": install.install_commands(install.index_url(request), page.name),
        **install.page_context(request),
    }
    return render(request, "web/proxied_project.html", context)


def release_page(request: HttpRequest, name: str, version: str) -> HttpResponse:
    served = _served(request, name)
    if isinstance(served, HttpResponse):
        return served
    page, stale = served
    wanted = canonicalize_version(version)
    releases = releases_of(page) if page.status != "quarantined" else []
    release = next((r for r in releases if canonicalize_version(r.version) == wanted), None)
    if release is None:
        raise Http404(f"{page.name} has no release {version!r} here.")
    if name != page.name or version != release.version:
        return redirect("web:release", page.name, release.version, permanent=True)
    context = {
        "project": _project(page),
        "release": release,
        "files": sorted(release.files, key=lambda file: file.entry.filename),
        "files_base": links.files_base_url(),
        "stale": stale,
        "commands": install.install_commands(install.index_url(request), page.name, release.version),
        **install.page_context(request),
    }
    return render(request, "web/proxied_release.html", context)
