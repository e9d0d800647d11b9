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

import hashlib
from datetime import UTC, datetime

from django.http import HttpResponse
from django.urls import reverse
from rest_framework.exceptions import APIException
from rest_framework.views import APIView

from packages_app import hot_reads, read_access, upstream
from packages_app.links import url_layout
from packages_app.models import JournalEntry
from packages_app.naming import normalize_name
from packages_app.pages import store
from packages_app.pages.serve import serve_page
from packages_app.simple import builders, pieces, root_list, timetravel
from packages_app.simple.negotiation import SimpleContentNegotiation
from packages_app.simple.renderers import SimpleHTMLRenderer, SimpleJSONRenderer, SimpleTextHTMLRenderer
from packages_app.simple.responses import not_found, plain_text, redirect_keeping_query
from packages_app.upstream import cooldown
from packages_app.upstream import pages as upstream_pages
from packages_app.upstream import records as upstream_records
from packages_app.upstream import views as upstream_views

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # Last-Modified of an index with no history


def page_url(page: str, horizon: str | None, when: str | None, *args: str) -> str:
    """URL of the root (``page="index"``) or a project page under ``horizon``, keeping its time as written."""
    if horizon is None:
        return reverse(f"simple-{page}", args=args)
    return reverse(f"{horizon}-{page}", args=[when, *args])


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

    def serve(
        self,
        slot: str,
        serial: int,
        view: timetravel.View,
        build_body,
        last_modified,
        *,
        header_serial=None,
        variant: str = "",
        restricted: bool = False,
    ) -> HttpResponse:
        """The page of ``slot`` at ``serial``; ``build_body(layout, renderer)`` makes its bytes on a miss.

        ``header_serial``: the serial to send, when the page is kept under an older one (the HTML root).
        ``variant``: what else the page depends on (the restricted projects a root list shows);
        ``restricted``: the page shows a restricted project (no shared cache may keep it).
        """
        renderer = self.request.accepted_renderer
        layout = self.layout()
        parts = [part for part in (view.tag, variant) if part]
        key = store.page_key(slot, renderer.format, layout.tag, *parts, serial=serial)

        def build() -> store.Page:
            return store.make_page(build_body(layout, renderer), last_modified() if view.dated else None)

        content_type = renderer.media_type + (f"; charset={renderer.charset}" if renderer.charset else "")
        return serve_page(
            self.request,
            key,
            build,
            content_type=content_type,
            policy=view.policy,
            serial=serial if header_serial is None else header_serial,
            restricted=restricted,
        )

    def layout(self):
        return url_layout(relative_project_links=self.horizon is not None)


class ProjectListView(SimpleView):
    """``/simple/``: every project that offers files, as PEP 503 HTML or PEP 691 JSON."""

    def get(self, request, when: str | None = None):
        view = timetravel.view_for(self.horizon, when)
        serial, changed_at = JournalEntry.objects.last_entry()
        viewer = read_access.viewer(request)
        if view.as_of is not None:
            # A past moment: a page of its own (for a viewer who sees restricted projects, one
            # per set of them).
            return self.serve(
                "index",
                serial,
                view,
                lambda layout, renderer: render(
                    renderer, layout, builders.index_page(serial, view.as_of, view.exempt, viewer)
                ),
                lambda: changed_at or _EPOCH,
                variant=restricted_variant(viewer),
                restricted=bool(viewer.restricted_ids),
            )
        # The live root, from kept pieces (root_list); its HTML form is kept under the last
        # serial that changed it, so an upload to an existing project leaves it as it was.
        frame = builders.index_frame(serial)
        # Proxied projects (upstream.records) are listed once fetched: one more query, with upstream on.
        proxied_tag = upstream_records.listing_tag() if upstream.enabled() else ""
        if viewer.restricted_ids or proxied_tag:
            # Every reader's pieces with this viewer's restricted projects and the proxied ones
            # spliced in, kept under the set of them (one page per team, in practice) and the
            # global serial.
            def build(layout, renderer) -> bytes:
                proxied = upstream_records.listed_names() if proxied_tag else ()
                if renderer.format == "json":
                    return root_list.json_body(
                        serial, layout.project_url, renderer, frame, viewer.restricted_ids, proxied
                    )
                return root_list.html_body(serial, layout.project_url, frame, viewer.restricted_ids, proxied)

            return self.serve(
                "index",
                serial,
                view,
                build,
                lambda: changed_at or _EPOCH,
                variant="".join(part for part in (restricted_variant(viewer), proxied_tag) if part),
                restricted=bool(viewer.restricted_ids),
            )
        if request.accepted_renderer.format == "json":
            return self.serve(
                "index",
                serial,
                view,
                lambda layout, renderer: root_list.json_body(serial, layout.project_url, renderer, frame),
                lambda: changed_at or _EPOCH,
            )
        kept_under = root_list.list_serial(serial, self.layout().project_url)
        return self.serve(
            "index",
            kept_under,
            view,
            lambda layout, renderer: root_list.html_body(serial, layout.project_url, frame),
            lambda: JournalEntry.objects.submitted_at(kept_under) or changed_at or _EPOCH,
            header_serial=serial,
        )


class ProjectDetailView(SimpleView):
    """``/simple/<name>/``: one project's files and versions."""

    def get(self, request, name: str, when: str | None = None):
        normalized = normalize_name(name)
        view = timetravel.view_for(self.horizon, when).for_project(normalized)
        project = hot_reads.project_for_page(normalized)
        if project is None:
            return self.upstream_page(request, name, normalized, view, when)
        if not read_access.viewer(request).may_read(project):
            return not_found()  # local wins even when invisible: never upstream's page instead
        if name != normalized:
            return redirect_keeping_query(request, page_url("project", self.horizon, when, normalized))

        def build_body(layout, renderer) -> bytes | store.Parts:
            if view.as_of is None and project.offers_files:
                return pieces.project_body(project, layout.files_base, renderer)
            return render(renderer, layout, builders.project_page(project, layout.files_base, view.as_of))

        response = self.serve(
            f"project:{project.pk}",
            project.last_serial,
            view,
            build_body,
            lambda: builders.last_change(project.last_serial, project.created),
            restricted=project.is_restricted,
        )
        response[upstream_views.SOURCE_HEADER] = "local"
        return response

    def upstream_page(
        self, request, name: str, normalized: str, view: timetravel.View, when: str | None
    ) -> HttpResponse:
        """A project absent here: upstream's page in our form, when the upstream is on and the guard allows.

        Its files pass the upstream cut-offs (``upstream.cooldown``) and the request's own view.
        """
        if not upstream.enabled():
            return not_found()
        answer = upstream_views.project_page(normalized)
        if isinstance(answer, HttpResponse):
            return answer
        if name != normalized:
            return redirect_keeping_query(request, page_url("project", self.horizon, when, normalized))
        page, stale = answer
        view = cooldown.page_view(normalized, view, page)
        moment = view.as_of.moment if view.as_of is not None else None
        response = self.serve(
            f"upstream:{normalized}",
            page.generation,
            view,
            lambda layout, renderer: render(
                renderer,
                layout,
                upstream_pages.project_page(cooldown.offered(upstream_pages.whole(page), moment), layout.files_base),
            ),
            lambda: None,
            header_serial=page.last_serial,
        )
        upstream_views.mark(response, stale)
        return response


def restricted_variant(viewer) -> str:
    """The part of a root list's key naming the restricted projects it shows ("" for none)."""
    if not viewer.restricted_ids:
        return ""
    # A cryptographic digest, not the store's short tag: two sets that collided would
    # show one viewer the other's restricted projects.
    ids = ",".join(map(str, sorted(viewer.restricted_ids)))
    return "r" + hashlib.sha256(ids.encode()).hexdigest()[:32]


def render(renderer, layout, data: dict) -> bytes:
    return renderer.render(data, renderer.media_type, {"project_url": layout.project_url})


def project_without_slash(request, name: str, horizon: str | None = None, when: str | None = None) -> HttpResponse:
    return redirect_keeping_query(request, page_url("project", horizon, when, normalize_name(name)))


def index_without_slash(request, horizon: str | None = None, when: str | None = None) -> HttpResponse:
    return redirect_keeping_query(request, page_url("index", horizon, when))
