"""How the web UI's pages find a project: only among those the viewer may see, else a 404 page."""

from __future__ import annotations

import functools

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from packages_app import read_access
from packages_app.models import Project


def not_found_page(view):
    """A 404 of the web UI is a page of the web UI (not the site-wide one), naming nothing it hides."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return render(request, "web/not_found.html", status=404)

    return wrapped


def visible_projects(request: HttpRequest):
    return Project.objects.visible_to(read_access.viewer(request))


def find_project(request: HttpRequest, name: str, queryset=None) -> Project:
    project = (queryset if queryset is not None else visible_projects(request)).by_name(name).first()
    if project is None:
        raise Http404(f"No project named {name!r}.")
    return project
