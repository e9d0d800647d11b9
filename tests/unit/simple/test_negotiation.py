"""PEP 691 content negotiation, with the Accept headers real clients send."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from packages_app.simple.negotiation import SimpleContentNegotiation
from packages_app.simple.renderers import HTML_V1, JSON_V1, TEXT_HTML
from packages_app.simple.views import SimpleView

PIP = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
UV = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
PYPI_SIMPLE_LIBRARY = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html, text/html;q=0.01"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def negotiate(accept: str | None, query: str = "") -> str:
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    request = Request(APIRequestFactory().get(f"/simple/{query}", **headers))
    renderers = [renderer() for renderer in SimpleView.renderer_classes]
    renderer, media_type = SimpleContentNegotiation().select_renderer(request, renderers)
    assert media_type == renderer.media_type  # always the concrete type, never an alias
    return media_type


@pytest.mark.parametrize(
    ("client", "accept", "expected"),
    [
        ("pip", PIP, JSON_V1),
        ("uv", UV, JSON_V1),
        ("poetry", JSON_V1, JSON_V1),
        ("bandersnatch", JSON_V1, JSON_V1),
        ("pypi-simple library", PYPI_SIMPLE_LIBRARY, JSON_V1),
        ("browser", BROWSER, TEXT_HTML),
        ("no Accept header", None, TEXT_HTML),
        ("anything", "*/*", TEXT_HTML),
        ("empty header", "", TEXT_HTML),
        ("old HTML-only client", "text/html", TEXT_HTML),
        ("versioned HTML", HTML_V1, HTML_V1),
        ("latest JSON alias", "application/vnd.pypi.simple.latest+json", JSON_V1),
        ("latest HTML alias", "application/vnd.pypi.simple.latest+html", HTML_V1),
        ("nothing fits: PyPI answers HTML", "text/plain", TEXT_HTML),
        ("refused JSON only", f"{JSON_V1};q=0", TEXT_HTML),
        ("q-values beat order", f"text/html;q=0.01, {HTML_V1};q=0.2, {JSON_V1}", JSON_V1),
        ("q-values beat order, HTML wins", f"{JSON_V1};q=0.5, {HTML_V1};q=0.9", HTML_V1),
        ("ties keep the client's order", f"text/html, {HTML_V1}, {JSON_V1}", TEXT_HTML),
        ("specific beats wildcard at equal q", f"*/*, {JSON_V1}", JSON_V1),
        ("wildcard subtype", "application/*", HTML_V1),
    ],
)
def test_accept_headers(client, accept, expected):
    assert negotiate(accept) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("json", JSON_V1),
        ("html", HTML_V1),
        (JSON_V1, JSON_V1),
        (HTML_V1, HTML_V1),
        ("text/html", TEXT_HTML),
        ("application/vnd.pypi.simple.latest+json", JSON_V1),
    ],
)
def test_format_parameter_overrides_accept(value, expected):
    other = TEXT_HTML if expected == JSON_V1 else JSON_V1
    assert negotiate(other, f"?format={value}") == expected


def test_unknown_format_is_not_acceptable():
    with pytest.raises(NotAcceptable, match="Unknown format 'xml'"):
        negotiate(None, "?format=xml")
