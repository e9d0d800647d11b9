"""PyPI's legacy JSON API, kept working for the tools that still call it.

Thin views over ``json_pages``: resolve (404 as ``{"message": "Not Found"}``, or
301 to the normalised name), then serve the page stored for (project, serial,
version, URL base), building it on the first request after a change. Every
answer points at its successor in the metadata API (``Deprecation`` and
``Link`` headers, RFC 9745).
"""

from __future__ import annotations

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from legacy_api import json_pages, xmlrpc
from packages_app import caching, naming
from packages_app.models import Project, Release
from packages_app.simple.builders import last_change
from packages_app.simple.views import files_base_url

# RFC 9745: when these became deprecated (the metadata API's first release here).
DEPRECATED_SINCE = "@1795219200"  # 2026-11-21


class _NotFound(Exception):
    pass


def not_found() -> HttpResponse:
    response = HttpResponse(b'{"message":"Not Found"}\n', status=404, content_type="application/json")
    caching.add_cors_headers(response)
    return response


def base_url(request: HttpRequest) -> str:
    """Where this index is reached: PUBLIC_BASE_URL, or the request's own scheme and host."""
    return settings.PUBLIC_BASE_URL or f"{request.scheme}://{request.get_host()}"


def _urls(base: str) -> json_pages.Urls:
    name, version = "__name__", "__version__"
    return json_pages.Urls(
        files_base=base + files_base_url().removeprefix(settings.PUBLIC_BASE_URL),
        project_page=base + reverse("api:project", args=[name]).replace(name, "{}"),
        release_page=base + reverse("api:release", args=[name, version]).replace(name, "{}").replace(version, "{}"),
    )


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
    project = (
        Project.objects.only("name", "normalized_name", "last_serial", "status", "created")
        .filter(normalized_name=normalized)
        .first()
    )
    if project is None or not project.offers_files:
        return not_found()
    if name != normalized:
        args = [normalized] if version is None else [normalized, version]
        route = "legacy-json" if version is None else "legacy-release-json"
        return HttpResponsePermanentRedirect(reverse(route, args=args))
    base = base_url(request)
    wanted = "" if version is None else naming.canonical_version(version)
    key = caching.page_key("legacy-json", project.pk, project.last_serial, wanted, caching.key_tag(base))

    def build() -> caching.Page:
        if version is None:
            release = json_pages.latest_release(project)
        else:
            release = Release.objects.filter(project=project, canonical_version=wanted).first()
        if release is None:
            raise _NotFound
        page = json_pages.project_page(project, release, _urls(base), with_releases=version is None)
        body = orjson.dumps(page, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
        return caching.make_page(body, last_change(project.last_serial, project.created))

    try:
        page = caching.get_or_build(key, build)
    except _NotFound:
        return not_found()
    response = caching.page_response(
        request,
        page,
        etag=f'"{key.removeprefix("simple:")}"',
        content_type="application/json",
        serial=project.last_serial,
        max_age=settings.SIMPLE_MAX_AGE,
    )
    successor = reverse("api:project", args=[normalized])
    if version is not None:
        successor = reverse("api:release", args=[normalized, version])
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
    answer = xmlrpc.dispatch(body, xmlrpc.Context(urls=_urls(base_url(request))))
    return HttpResponse(answer, content_type="text/xml; charset=utf-8")
