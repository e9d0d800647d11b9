"""HTTP to the index on 127.0.0.1, for end-to-end tests and benchmarks: no proxies, no redirects followed.

4xx and 5xx answers are returned, not raised; any other host is refused.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # let the caller see the 3xx itself


# No proxy handler: a proxy configured on the machine must not see requests to 127.0.0.1.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


@lru_cache(maxsize=8)
def _tls_opener(context: ssl.SSLContext) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _NoRedirects, urllib.request.HTTPSHandler(context=context)
    )


def _check_local(url: str) -> None:
    if urllib.parse.urlsplit(url).hostname not in LOCAL_HOSTS:
        raise ValueError(f"end-to-end tests only talk to the local server, not {url}")


def _open(opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float) -> HttpResponse:
    try:
        with opener.open(request, timeout=timeout) as response:
            return HttpResponse(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return HttpResponse(error.code, dict(error.headers), error.read())


def http_get(
    url: str,
    *,
    timeout: float = 10,
    headers: Mapping[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> HttpResponse:
    """GET ``url`` without proxies or redirects; 4xx/5xx are returned, not raised.

    ``ssl_context`` decides which certificates an https URL may present (a test server's own).
    """
    _check_local(url)
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - loopback only, checked
    return _open(_opener if ssl_context is None else _tls_opener(ssl_context), request, timeout)


def http_post(url: str, payload: dict, token: str) -> HttpResponse:
    """POST JSON with a Bearer token, without proxies; 4xx/5xx are returned, not raised."""
    _check_local(url)
    request = urllib.request.Request(  # noqa: S310 - loopback only, checked
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    return _open(_opener, request, 10)
