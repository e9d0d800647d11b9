"""HTTP to the upstream index: every call bounded in time, page bodies bounded in size.

urllib3 (already a dependency, through boto3) with no retries: a slow upstream costs a
client at most ``UPSTREAM_TIMEOUT_SECONDS`` before the last good page is served instead.
Connect and each read are bounded by the setting, and a page's whole body is read
against a deadline too, so an upstream that drips one byte a second cannot hold a worker.

Credentials written in ``UPSTREAM_INDEX_URL`` (``https://user:token@host/simple/``) are sent as
HTTP Basic to that host only (never to a files host it links to), and never logged: every
request is logged (``packages_app.upstream``) with its URL stripped of them.

urllib3 (3 MiB in a worker) is imported by the first call, not with this module, which every
worker imports whether or not an upstream is configured.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin

from django.conf import settings

if TYPE_CHECKING:
    import urllib3

logger = logging.getLogger("packages_app.upstream")

# pip's preference: JSON, then HTML (PEP 691 negotiation), so any PEP 503 index answers too.
PAGE_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
_CHUNK = 64 * 1024


@cache
def _pool() -> urllib3.PoolManager:
    import urllib3

    return urllib3.PoolManager(retries=urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=5))


class UpstreamError(Exception):
    """Upstream could not give an answer we can use; ``status`` is ours to send (502 or 504)."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PageResponse:
    status: int
    url: str  # after redirects: relative file URLs resolve against it
    content_type: str
    etag: str
    last_modified: str
    body: bytes


def _timeout() -> urllib3.Timeout:
    import urllib3

    seconds = settings.UPSTREAM_TIMEOUT_SECONDS
    return urllib3.Timeout(connect=seconds, read=seconds)


@cache
def _index(configured: str) -> tuple[str, str, dict[str, str]]:
    """``configured`` without its credentials, its origin, and the header that carries them."""
    from urllib3.util import make_headers, parse_url

    parsed = parse_url(configured)
    origin = parsed._replace(auth=None, path=None, query=None, fragment=None).url
    headers = make_headers(basic_auth=unquote(parsed.auth)) if parsed.auth else {}
    return parsed._replace(auth=None).url, origin, headers


def index_url() -> str:
    """``UPSTREAM_INDEX_URL`` without the credentials written in it."""
    return _index(settings.UPSTREAM_INDEX_URL)[0]


def shown(url: str) -> str:
    """``url`` fit for a log line or an error message: no credentials."""
    from urllib3.util import parse_url

    try:
        parsed = parse_url(url)
    except ValueError:
        return "(an unreadable URL)"
    return parsed._replace(auth=None).url if parsed.auth else url


def _credentials_for(url: str) -> dict[str, str]:
    _, origin, headers = _index(settings.UPSTREAM_INDEX_URL)
    if not headers:
        return {}
    from urllib3.util import parse_url

    asked = parse_url(url)._replace(auth=None, path=None, query=None, fragment=None).url
    return headers if asked == origin else {}


def _request(url: str, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
    import urllib3

    started = time.monotonic()
    try:
        response = _pool().request(
            "GET",
            shown(url),
            headers={**headers, **_credentials_for(url)},
            timeout=_timeout(),
            preload_content=False,
        )
    except urllib3.exceptions.HTTPError as error:
        failure = _failure(error)
        logger.warning("upstream GET %s failed after %.0f ms: %s", shown(url), _ms(started), failure)
        raise failure from None
    logger.info("upstream GET %s -> %s in %.0f ms", shown(url), response.status, _ms(started))
    return response


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _failure(error: urllib3.exceptions.HTTPError) -> UpstreamError:
    import urllib3

    reason = getattr(error, "reason", None) or error
    # (A refused connection is a NewConnectionError, which urllib3 derives from its timeout error.)
    timed_out = isinstance(reason, urllib3.exceptions.TimeoutError)
    if timed_out and not isinstance(reason, urllib3.exceptions.NewConnectionError):
        return UpstreamError(f"the upstream index did not answer in {settings.UPSTREAM_TIMEOUT_SECONDS} s", 504)
    return UpstreamError(f"the upstream index cannot be reached ({reason})")


def get_page(url: str, *, etag: str = "", last_modified: str = "") -> PageResponse:
    """GET a project page, conditionally when validators are given; a 304 has an empty body.

    Refuses (``UpstreamError``) a body over ``UPSTREAM_MAX_PAGE_BYTES`` without holding more
    than that in memory, and a whole exchange longer than about ``UPSTREAM_TIMEOUT_SECONDS``.
    """
    import urllib3

    deadline = time.monotonic() + settings.UPSTREAM_TIMEOUT_SECONDS
    headers = {"Accept": PAGE_ACCEPT, "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    response = _request(url, headers)
    limit = settings.UPSTREAM_MAX_PAGE_BYTES
    try:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit and response.headers.get("Content-Encoding") is None:
            raise UpstreamError(f"the upstream page is larger than UPSTREAM_MAX_PAGE_BYTES ({limit} bytes)")
        parts: list[bytes] = []
        size = 0
        try:
            for chunk in response.stream(_CHUNK, decode_content=True):
                size += len(chunk)
                if size > limit:
                    raise UpstreamError(f"the upstream page is larger than UPSTREAM_MAX_PAGE_BYTES ({limit} bytes)")
                if time.monotonic() > deadline:
                    raise UpstreamError(
                        f"the upstream index did not answer in {settings.UPSTREAM_TIMEOUT_SECONDS} s", 504
                    )
                parts.append(chunk)
        except urllib3.exceptions.TimeoutError:
            raise UpstreamError(
                f"the upstream index did not answer in {settings.UPSTREAM_TIMEOUT_SECONDS} s", 504
            ) from None
        except urllib3.exceptions.HTTPError as error:
            raise UpstreamError(f"the upstream answer was cut short ({error})") from None
        return PageResponse(
            status=response.status,
            url=urljoin(url, response.geturl() or ""),
            content_type=response.headers.get("Content-Type", ""),
            etag=response.headers.get("ETag", ""),
            last_modified=response.headers.get("Last-Modified", ""),
            body=b"".join(parts),
        )
    finally:
        response.release_conn()


def open_file(url: str) -> urllib3.BaseHTTPResponse:
    """GET a distribution (or its metadata) as a stream; the caller reads and releases it.

    Each read waits at most ``UPSTREAM_TIMEOUT_SECONDS`` (a big file may take longer in all).
    """
    response = _request(url, {"Accept-Encoding": "identity"})
    if response.status != 200:
        response.release_conn()
        raise UpstreamError(f"the upstream index answered {response.status} for the file")
    return response


def read_stream_errors() -> tuple[type[Exception], ...]:
    """What reading an ``open_file`` stream raises when upstream fails midway."""
    import urllib3

    return (urllib3.exceptions.HTTPError,)
