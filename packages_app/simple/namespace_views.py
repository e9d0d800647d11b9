"""PEP 752's namespace endpoints of the simple API: ``/simple/namespaces`` and
``/simple/namespace/<namespace>`` (JSON only, api-version 1.5; an HTML-only client gets 406).

Stored like every simple page, keyed by the serial of the last grant change, with the same
negotiation, ETags and read access. Under ``/snapshot/<when>/`` they show the grants of
that moment.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import Max

from packages_app import namespaces
from packages_app.models import JournalEntry, NamespaceGrant
from packages_app.naming import normalize_name
from packages_app.simple import timetravel
from packages_app.simple.negotiation import JsonOnlyNegotiation
from packages_app.simple.renderers import SimpleJSONRenderer
from packages_app.simple.responses import not_found, redirect_keeping_query
from packages_app.simple.views import SimpleView

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _moment(view: timetravel.View) -> datetime | None:
    """A snapshot's moment; None (today's grants) otherwise: a cool-down holds back files only."""
    return view.as_of.moment if view.as_of is not None and view.as_of.yanks_from_journal else None


def _last_change() -> int:
    return NamespaceGrant.objects.aggregate(serial=Max("serial"))["serial"] or 0


class NamespaceView(SimpleView):
    renderer_classes = [SimpleJSONRenderer]
    content_negotiation_class = JsonOnlyNegotiation

    def serve_grants(self, slot: str, view: timetravel.View, build) -> object:
        serial = _last_change()
        return self.serve(
            slot,
            serial,
            view,
            lambda layout, renderer: renderer.render(build(list(namespaces.active(_moment(view))))),
            lambda: JournalEntry.objects.submitted_at(serial) or _EPOCH,
        )


class NamespaceListView(NamespaceView):
    """``/namespaces``: every reserved namespace, ``[{"name": ...}]``."""

    def get(self, request, when: str | None = None):
        view = timetravel.view_for(self.horizon, when)
        return self.serve_grants("namespaces", view, lambda grants: [{"name": grant.namespace} for grant in grants])


class NamespaceDetailView(NamespaceView):
    """``/namespace/<namespace>``: its ``name``, ``parent``, direct ``children`` and ``owner``."""

    def get(self, request, namespace: str, when: str | None = None):
        normalized = normalize_name(namespace)
        if normalized != namespace:
            return redirect_keeping_query(
                request, request.path.replace(f"/namespace/{namespace}", f"/namespace/{normalized}", 1)
            )
        view = timetravel.view_for(self.horizon, when)
        moment = _moment(view)
        if not namespaces.active(moment).filter(namespace=normalized).exists():
            return not_found()

        def build(grants: list[NamespaceGrant]) -> dict:
            names = [grant.namespace for grant in grants]
            (grant,) = [grant for grant in grants if grant.namespace == normalized]
            return {
                "name": normalized,
                "parent": namespaces.parent_of(normalized, names),
                "children": namespaces.children_of(normalized, names),
                "owner": grant.holder_name,
            }

        return self.serve_grants(f"namespace:{normalized}", view, build)
