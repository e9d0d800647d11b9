"""Yanking and unyanking a release from its page (PEP 592), for those the API lets do it.

The same rule as ``POST /api/v1/projects/<name>/releases/<version>/yank/``: ``yank_refusal``
(the project's Owners and Maintainers, and superusers), and the same service, which journals the change and
moves the serial, so the simple pages show the yank at once. The project must be one the
viewer may see (else 404, as everywhere); a viewer who sees it but may not manage it gets 403
with the reason.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from packages_app.access import yank_refusal
from packages_app.authentication import Identity
from packages_app.models import Project, Release
from packages_app.services import releases
from packages_app.web.lookups import find_project, not_found_page

MAX_REASON_LENGTH = 10_000  # as the API's


class YankForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=MAX_REASON_LENGTH,
        label="Reason",
        help_text="Shown to installers and on the release's page.",
    )


def may_yank(request: HttpRequest, project: Project) -> bool:
    """Whether the signed-in user may yank this project's releases (one query)."""
    user = request.user
    return bool(user.is_authenticated) and yank_refusal(Identity(user=user), project) is None


def _find_release(request: HttpRequest, name: str, version: str) -> tuple[Project, Release]:
    project = find_project(request, name)
    release = project.releases.by_version(version).first()
    if release is None:
        raise Http404(f"{project.name} has no release {version!r}.")
    return project, release


def _refused(request: HttpRequest, project: Project, release: Release) -> HttpResponse | None:
    refusal = yank_refusal(Identity(user=request.user), project)
    if refusal is None:
        return None
    return render(request, "web/refused.html", {"refusal": refusal, "project": project, "release": release}, status=403)


@login_required
@require_POST
@not_found_page
def yank(request: HttpRequest, name: str, version: str) -> HttpResponse:
    project, release = _find_release(request, name, version)
    refused = _refused(request, project, release)
    if refused is not None:
        return refused
    form = YankForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors["reason"]))
    else:
        releases.yank_release(release, form.cleaned_data["reason"], user=request.user)
        messages.success(request, f"{project.name} {release.version} is yanked.")
    return redirect("web:release", project.normalized_name, release.version)


@login_required
@require_POST
@not_found_page
def unyank(request: HttpRequest, name: str, version: str) -> HttpResponse:
    project, release = _find_release(request, name, version)
    refused = _refused(request, project, release)
    if refused is not None:
        return refused
    releases.unyank_release(release, user=request.user)
    messages.success(request, f"{project.name} {release.version} is no longer yanked.")
    return redirect("web:release", project.normalized_name, release.version)
