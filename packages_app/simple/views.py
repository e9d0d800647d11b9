"""Views of the simple repository API (PEP 503 / 691): thin, cached by serial.

Each view: resolve (or 404, or 301 to the canonical URL), negotiate the media
type, then serve the page stored for (page, serial, media type), building it
through a builder and a DRF renderer on the first request after a change.
A hit costs one small query.

The same views serve ``/snapshot/<time>/simple/`` and ``/cooldown/<duration>/simple/``
(``horizon``): the time filter of ``timetravel.view_for`` goes to the builders and
into the page key, and nothing else changes.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpResponse
from django.urls import get_script_prefix, reverse
from rest_framework.exceptions import APIException
from rest_framework.views import APIView

from packages_app import caching
from packages_app.models import Project
from packages_app.naming import normalize_name
from packages_app.services import journal
from packages_app.simple import builders, timetravel
from packages_app.simple.negotiation import SimpleContentNegotiation
from packages_app.simple.renderers import SimpleHTMLRenderer, SimpleJSONRenderer, SimpleTextHTMLRenderer
from packages_app.simple.responses import not_found, plain_text, redirect_keeping_query

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # Last-Modified of an index with no history
_NAME_SLOT = "__name__"
_PATH_SLOT = "__path__"


def page_url(page: str, horizon: str | None, when: str | None, *args: str) -> str:
    """URL of the root (``page="index"``) or a project page under ``horizon``, keeping its time as written."""
    if horizon is None:
        return reverse(f"simple-{page}", args=args)
    return reverse(f"{horizon}-{page}", args=[when, *args])


def files_base_url() -> str:
    """Prefix of every file URL: storage paths are appended to it."""
    return settings.PUBLIC_BASE_URL + reverse("files", args=[_PATH_SLOT]).removesuffix(_PATH_SLOT)


class _UrlLayout:
    """Where pages link to, fixed per deployment; part of every page key.

    Time-travel root pages link to projects relatively (``name/``), so a link
    stays under the snapshot or cool-down it was found in, however its time
    was written, and one stored page serves every spelling of that time.
    """

    def __init__(self, relative_project_links: bool) -> None:
        if relative_project_links:
            self.project_url = "{}/"
        else:
            self.project_url = reverse("simple-project", args=[_NAME_SLOT]).replace(_NAME_SLOT, "{}")
        self.files_base = files_base_url()
        self.tag = caching.key_tag(self.project_url + " " + self.files_base)


@functools.lru_cache(maxsize=8)
def _layout_for(script_prefix: str, public_base_url: str, relative_project_links: bool) -> _UrlLayout:
    return _UrlLayout(relative_project_links)


def url_layout(*, relative_project_links: bool = False) -> _UrlLayout:
    # Computed once per (mount point, public URL) rather than with two reverse() per request.
    return _layout_for(get_script_prefix(), settings.PUBLIC_BASE_URL, relative_project_links)


class SimpleView(APIView):
    # Order matters: text/html answers '*/*' and no Accept header at all (as PyPI).
    renderer_classes = [SimpleTextHTMLRenderer, SimpleHTMLRenderer, SimpleJSONRenderer]
    content_negotiation_class = SimpleContentNegotiation
    authentication_classes = ()
    permission_classes = ()
    schema = None  # the simple API is specified by PEPs, not by our OpenAPI document
    # None for /simple/; "snapshot" or "cooldown" for the time-travel routes (set in urls.py).
    horizon: str | None = None

    def handle_exception(self, exc):
        if isinstance(exc, APIException):
            # Plain text: the failed negotiation leaves no renderer to trust.
            return plain_text(exc.status_code, str(exc.detail))
        if isinstance(exc, timetravel.BadTime):
            return plain_text(400, str(exc))
        return super().handle_exception(exc)

    def serve(self, key: str, serial: int, view: timetravel.View, build_data, last_modified) -> HttpResponse:
        renderer = self.request.accepted_renderer
        layout = url_layout(relative_project_links=self.horizon is not None)
        kind = renderer.format
        key = caching.page_key(key, kind, serial, layout.tag, *([view.tag] if view.tag else []))

        def build() -> caching.Page:
            context = {"project_url": layout.project_url}
            body = renderer.render(build_data(layout), renderer.media_type, context)
            return caching.make_page(body, last_modified() if view.dated else None)

        page = caching.get_or_build(key, build, shared=view.shared)
        content_type = renderer.media_type + (f"; charset={renderer.charset}" if renderer.charset else "")
        return caching.page_response(
            self.request,
            page,
            etag=f'"{key.removeprefix("simple:")}"',
            content_type=content_type,
            serial=serial,
            max_age=view.max_age,
        )


class ProjectListView(SimpleView):
    """``/simple/``: every project that offers files, as PEP 503 HTML or PEP 691 JSON."""

    def get(self, request, when: str | None = None):
        view = timetravel.view_for(self.horizon, when)
        serial, changed_at = journal.last_entry()
        return self.serve(
            "index",
            serial,
            view,
            lambda layout: builders.index_page(serial, view.as_of, view.exempt),
            lambda: changed_at or _EPOCH,
        )


class ProjectDetailView(SimpleView):
    """``/simple/<name>/``: one project's files and versions."""

    def get(self, request, name: str, when: str | None = None):
        normalized = normalize_name(name)
        view = timetravel.view_for(self.horizon, when).for_project(normalized)
        project = (
            Project.objects.only("name", "normalized_name", "last_serial", "status", "status_reason", "created")
            .filter(normalized_name=normalized)
            .first()
        )
        if project is None:
            return not_found()
        if name != normalized:
            return redirect_keeping_query(request, page_url("project", self.horizon, when, normalized))
        return self.serve(
            f"project:{project.pk}",
            project.last_serial,
            view,
            lambda layout: builders.project_page(project, layout.files_base, view.as_of),
            lambda: builders.last_change(project.last_serial, project.created),
        )


def project_without_slash(request, name: str, horizon: str | None = None, when: str | None = None) -> HttpResponse:
    return redirect_keeping_query(request, page_url("project", horizon, when, normalize_name(name)))


def index_without_slash(request, horizon: str | None = None, when: str | None = None) -> HttpResponse:
    return redirect_keeping_query(request, page_url("index", horizon, when))
