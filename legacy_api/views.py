"""PyPI's legacy JSON API, kept working for the tools that still call it.

Thin views over ``json_pages``: resolve (404 as ``{"message": "Not Found"}``, or
301 to the normalised name), then serve the page stored for (project, serial,
version, URL base), building it on the first request after a change. Every
answer points at its successor in the metadata API (``Deprecation`` and
``Link`` headers, RFC 9745).
"""

from __future__ import annotations

from functools import partial

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from legacy_api import json_pages, json_pieces, xmlrpc
from packages_app import naming, read_access, upstream
from packages_app.links import absolute_urls
from packages_app.pages.serve import CachePolicy, add_cors_headers, serve_page

# RFC 9745: when these became deprecated (the metadata API's first release here).
DEPRECATED_SINCE = "@1795219200"  # 2026-11-21


def not_found(normalized: str = "") -> HttpResponse:
    """PyPI's 404, with why, when the name may be an upstream project (docs/upstream.md)."""
    body = {"message": "Not Found"}
    note = upstream.local_only_note(normalized) if normalized else ""
    if note:
        body["detail"] = note
    response = HttpResponse(orjson.dumps(body) + b"\n", status=404, content_type="application/json")
    add_cors_headers(response)
    return response


def base_url(request: HttpRequest) -> str:
    """Where this index is reached: PUBLIC_BASE_URL, or the request's own scheme and host."""
    return settings.PUBLIC_BASE_URL or f"{request.scheme}://{request.get_host()}"


@require_safe
def project_json(request: HttpRequest, name: str) -> HttpResponse:
    """``/pypi/<name>/json``: the latest release, every release's files, ownership."""
    return _serve(request, name, version=None)


@require_safe
def release_json(request: HttpRequest, name: str, version: str) -> HttpResponse:
    """``/pypi/<name>/<version>/json``: one release, without ``releases`` (as on PyPI since 2022)."""
    return _serve(request, name, version=version)


def _serve(request: HttpRequest, name: str, version: str | None) -> HttpResponse:
    normalized = naming.normalize_name(name)
    project = json_pages.project_to_serve(normalized, read_access.viewer(request))
    if project is None:
        return not_found(normalized)
    if name != normalized:
        return HttpResponsePermanentRedirect(_path("legacy-json", "legacy-release-json", normalized, version))
    base = base_url(request)
    key = json_pages.page_key(project, version, base)
    if version is None:  # the big one, built from kept pieces after a change
        build = partial(json_pieces.build_page, project, base)
    else:
        build = partial(json_pages.build_page, project, version, base)
    try:
        response = serve_page(
            request,
            key,
            build,
            content_type="application/json",
            policy=CachePolicy.SIMPLE,
            serial=project.last_serial,
            restricted=project.is_restricted,
        )
    except json_pages.NoSuchRelease:
        return not_found()
    return _with_successor(response, base, _path("api:project", "api:release", normalized, version))


def _path(project_route: str, release_route: str, name: str, version: str | None) -> str:
    return reverse(project_route, args=[name]) if version is None else reverse(release_route, args=[name, version])


def _with_successor(response: HttpResponse, base: str, successor: str) -> HttpResponse:
    """Every answer points at its successor in the metadata API (RFC 9745 and 8288)."""
    response["Deprecation"] = DEPRECATED_SINCE
    docs = reverse("api:docs")
    response["Link"] = f'<{base}{successor}>; rel="successor-version", <{base}{docs}>; rel="deprecation"'
    return response


@csrf_exempt
def xmlrpc_endpoint(request: HttpRequest) -> HttpResponse:
    """``POST /pypi`` (and ``/RPC2``): one XML-RPC method call per request."""
    if request.method != "POST":
        response = HttpResponse(
            "This is the XML-RPC endpoint: POST a method call (Content-Type: text/xml).\n",
            status=405,
            content_type="text/plain; charset=utf-8",
        )
        response["Allow"] = "POST"
        return response
    declared = request.META.get("CONTENT_LENGTH") or "0"
    too_large = HttpResponse(
        f"The request body is larger than {xmlrpc.MAX_BODY} bytes.\n",
        status=413,
        content_type="text/plain; charset=utf-8",
    )
    if not declared.isdigit() or int(declared) > xmlrpc.MAX_BODY:
        return too_large
    body = request.read(xmlrpc.MAX_BODY + 1)
    if len(body) > xmlrpc.MAX_BODY:  # a chunked body declares no length
        return too_large
    answer = xmlrpc.dispatch(
        body, xmlrpc.Context(urls=absolute_urls(base_url(request)), viewer=read_access.viewer(request))
    )
    return HttpResponse(answer, content_type="text/xml; charset=utf-8")
