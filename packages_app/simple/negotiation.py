"""PEP 691 content negotiation for the simple API.

DRF's default negotiation ignores q-values, so pip's header (JSON at q=1,
HTML at q=0.1 and q=0.01) would get HTML. This class ranks by q-value, then
by specificity, then by the client's own order, using Django's Accept parser
(``HttpRequest.get_preferred_type``). Where several of our types are equally
acceptable to one range (``*/*``, ``application/*``, no header at all) the
first of the view's renderers wins, which for the simple API is
``text/html``: PyPI's answer to clients that do not say what they want.
When nothing fits we also answer ``text/html``, as PyPI does, rather than
406: an old client that sends an odd header still gets a page it can read.

``?format=`` (PEP 691's optional override) names one media type, a
``latest`` alias, or the short names ``json`` / ``html``; anything else is
406, because the caller asked for something explicit that we cannot give.
"""

from __future__ import annotations

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import BaseContentNegotiation

from packages_app.simple.renderers import LATEST_ALIASES

FORMAT_PARAMETER = "format"


class SimpleContentNegotiation(BaseContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        by_media_type = {renderer.media_type: renderer for renderer in renderers}
        for alias, concrete in LATEST_ALIASES.items():
            if concrete in by_media_type:
                by_media_type.setdefault(alias, by_media_type[concrete])

        # An unescaped '+' in a typed URL arrives as a space; media types have no spaces.
        requested_format = (request.query_params.get(FORMAT_PARAMETER) or format_suffix or "").replace(" ", "+")
        if requested_format:
            renderer = by_media_type.get(requested_format) or _by_short_name(renderers, requested_format)
            if renderer is None:
                choices = ", ".join(by_media_type)
                raise NotAcceptable(f"Unknown format {requested_format!r}; use one of: {choices}, json, html.")
            return renderer, renderer.media_type

        preferred = request._request.get_preferred_type(list(by_media_type))
        renderer = by_media_type[preferred] if preferred else renderers[0]
        return renderer, renderer.media_type


def _by_short_name(renderers, name: str):
    # The first renderer of a format is its most specific type (v1+html before text/html).
    matching = [renderer for renderer in renderers if renderer.format == name]
    return min(matching, key=lambda renderer: renderer.media_type == "text/html") if matching else None


class JsonOnlyNegotiation(SimpleContentNegotiation):
    """For pages that exist in JSON only (PEP 752's namespace endpoints): a client that accepts
    none of the view's types gets 406 rather than a form it did not ask for."""

    def select_renderer(self, request, renderers, format_suffix=None):
        has_format = request.query_params.get(FORMAT_PARAMETER) or format_suffix
        offered = [renderer.media_type for renderer in renderers] + [
            alias for alias, concrete in LATEST_ALIASES.items() if concrete in {r.media_type for r in renderers}
        ]
        if not has_format and request._request.get_preferred_type(offered) is None:
            raise NotAcceptable(f"This page is JSON only: accept {renderers[0].media_type}.")
        return super().select_renderer(request, renderers, format_suffix)
