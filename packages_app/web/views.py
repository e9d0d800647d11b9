"""The web UI's pages. Each view: find what the viewer may see (or 404), one read, render.

Visibility is ``Project.objects.visible_to(read_access.viewer(request))`` on every page, so a
restricted project does not exist for a non-member (404, never 403), in search results too.
Whether anonymous visitors may read at all (``READ_ACCESS``) is decided before the view, by
``packages_app.read_access``: on a closed index they are sent to the sign-in page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from packages_app import links, namespaces, naming, quotas, upstream
from packages_app.models import DownloadCount, File, Role
from packages_app.querysets import count_of
from packages_app.web import install, manage, metadata, proxied, readmes, search, yanks
from packages_app.web.lookups import not_found_page, visible_projects

RECENT_PROJECTS = 10
SEARCH_PAGE_SIZE = 20
RELEASES_PAGE_SIZE = 50


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    recent = search.with_summary(visible_projects(request)).order_by("-last_serial")[:RECENT_PROJECTS]
    return render(request, "web/home.html", {"recent": recent, **install.page_context(request)})


@require_safe
def search_page(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()
    found = search.search_projects(visible_projects(request), text)
    page = search.SearchPaginator(found, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = search.with_summaries(page.object_list)
    context = {"q": text, "page": page, "full_text": search.uses_full_text()}
    context["upstream_name"] = _upstream_name(text, page)
    return render(request, "web/search.html", context)


def _upstream_name(text: str, page) -> str:
    """The name to look up upstream from a search: the text, when it is a project name that no
    project shown here holds (the search covers this index's projects only)."""
    if not upstream.enabled() or not naming.is_valid_project_name(text):
        return ""
    name = naming.normalize_name(text)
    exact = page.number == 1 and page.object_list and page.object_list[0].normalized_name == name
    return "" if exact else name


@require_safe
@not_found_page
def project_page(request: HttpRequest, name: str) -> HttpResponse:
    project = visible_projects(request).with_details().by_name(name).first()
    if project is None:
        return proxied.project_page(request, name)
    if name != project.normalized_name:
        return redirect("web:project", project.normalized_name, permanent=True)
    latest = project.releases.latest()
    history = project.releases.newest_first().annotate(file_count=count_of(File.objects.all(), release=OuterRef("pk")))
    paginator = Paginator(history, RELEASES_PAGE_SIZE)
    paginator.count = project.release_count  # with_details() counted them
    page = paginator.get_page(request.GET.get("page"))
    manager = manage.may_manage(request, project)
    context = {
        "project": project,
        "latest": latest,
        "readme": readmes.render_readme(latest.description, latest.description_content_type) if latest else "",
        "links": metadata.project_links(latest) if latest else [],
        "page": page,
        "commands": install.install_commands(install.index_url(request), project.name),
        "may_manage": manager,
        "downloads": _recent_downloads(project),
        "namespaces": covering_namespaces(project),
        # What the project holds against its quota is its Owners' business.
        "storage": quotas.project_usage(project) if manager else None,
        **install.page_context(request),
    }
    return render(request, "web/project.html", context)


DOWNLOAD_DAYS = 30


def covering_namespaces(project) -> list:
    """The PEP 752 namespaces the project is in, outermost first, with their holders (one query)."""
    grants = namespaces.active().filter(namespace__in=namespaces.prefixes(project.normalized_name))
    return sorted(grants.select_related("user", "team"), key=lambda grant: len(grant.namespace))


def _recent_downloads(project) -> int:
    since = datetime.now(UTC).date() - timedelta(days=DOWNLOAD_DAYS - 1)
    counts = DownloadCount.objects.filter(project=project, day__gte=since)
    return counts.aggregate(total=Sum("count"))["total"] or 0


@require_safe
@not_found_page
def release_page(request: HttpRequest, name: str, version: str) -> HttpResponse:
    project = visible_projects(request).by_name(name).first()
    if project is None:
        return proxied.release_page(request, name, version)
    release = project.releases.by_version(version).first()
    if release is None:
        raise Http404(f"{project.name} has no release {version!r}.")
    if name != project.normalized_name or version != release.version:
        return redirect("web:release", project.normalized_name, release.version, permanent=True)
    files = release.files.select_related("uploaded_by").order_by("filename") if project.offers_files else []
    manager = yanks.may_yank(request, project)
    context = {
        "project": project,
        "release": release,
        "files": files,
        "files_base": links.files_base_url(),
        "shown": metadata.readable(release),
        "readme": readmes.render_readme(release.description, release.description_content_type),
        "commands": install.install_commands(install.index_url(request), project.name, release.version),
        "may_manage": manager,
        "yank_form": yanks.YankForm() if manager else None,
        **install.page_context(request),
    }
    return render(request, "web/release.html", context)


@login_required
@require_safe
def my_projects(request: HttpRequest) -> HttpResponse:
    """The projects the signed-in user holds a role on, their own or through a team."""
    held = Role.objects.held_by(request.user).select_related("project", "team").order_by("project__normalized_name")
    projects: dict[int, dict] = {}
    for role in held:
        entry = projects.setdefault(role.project_id, {"project": role.project, "roles": []})
        entry["roles"].append(role.role_name if role.team is None else f"{role.role_name} (team {role.team.name})")
    return render(request, "web/my_projects.html", {"projects": list(projects.values())})


class SignInView(auth_views.LoginView):
    """Django's sign-in (session, CSRF); failures are throttled by django-axes as the admin's are."""

    template_name = "web/sign_in.html"
    redirect_authenticated_user = True
    next_page = "web:home"  # resolve_url() takes a route name

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "reads_closed": install.reads_need_credentials()}


class SignOutView(auth_views.LogoutView):
    next_page = "web:home"  # resolve_url() takes a route name
