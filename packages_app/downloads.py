"""``/packages/<path>``: distributions and their PEP 658 ``.metadata`` files.

Paths are content-addressed, so a URL's bytes never change: responses are
cacheable for a year. ``Last-Modified`` is the upload time, which is how
clients of the frozen HTML form (no ``upload-time`` there) can still apply
cool-down or exclude-newer rules. Single byte ranges are honoured: uv reads
a wheel's central directory and METADATA with range requests when a file has
no ``.metadata`` of its own. Local files are streamed by the WSGI server
(sendfile under gunicorn); with object storage we redirect to the storage URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from packages_app.models import File, ProjectStatus
from packages_app.simple_views import not_found, plain_text
from packages_app.storage import METADATA_SUFFIX, package_storage

ONE_YEAR = 365 * 24 * 3600
_CHUNK = 64 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)\Z")

# By filename ending, longest first. A .tar.gz is served as the gzip file it
# is, never with Content-Encoding: gzip (a client would unpack it).
_CONTENT_TYPES = (
    (".metadata", "text/plain; charset=utf-8"),
    (".tar.gz", "application/gzip"),
    (".tar.bz2", "application/x-bzip2"),
    (".tar.xz", "application/x-xz"),
    (".tgz", "application/gzip"),
    (".whl", "application/zip"),
    (".zip", "application/zip"),
    (".egg", "application/zip"),
)


def content_type_for(name: str) -> str:
    for suffix, content_type in _CONTENT_TYPES:
        if name.endswith(suffix):
            return content_type
    return "application/octet-stream"


def byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """The (first, last) byte of a single-range ``Range`` header.

    ``None`` means "serve the whole file": no header, one we do not parse, or
    several ranges (RFC 9110 lets a server ignore Range). ``False`` means no
    byte of the range exists (416).
    """
    match = _RANGE.match(header.strip()) if header else None
    if match is None or match.group(0) == "bytes=-":
        return None
    first_text, last_text = match.groups()
    if not first_text:  # a suffix: the last N bytes
        length = int(last_text)
        return (max(size - length, 0), size - 1) if length and size else False
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size:
        return False
    return (first, last) if first <= last else None


@require_safe
def serve_file(request: HttpRequest, path: str) -> HttpResponse:
    wants_metadata = path.endswith(METADATA_SUFFIX)
    row = (
        File.objects.filter(path=path.removesuffix(METADATA_SUFFIX) if wants_metadata else path)
        .values_list("size", "sha256_digest", "metadata_sha256", "upload_time", "release__project__status")
        .first()
    )
    if row is None:
        return not_found()
    size, sha256, metadata_sha256, upload_time, status = row
    if status == ProjectStatus.QUARANTINED or (wants_metadata and not metadata_sha256):
        return not_found()

    storage = package_storage()
    if not isinstance(storage, FileSystemStorage):
        return HttpResponseRedirect(storage.url(path))

    headers = HttpResponse(content_type=content_type_for(path))
    headers["ETag"] = f'"{metadata_sha256 if wants_metadata else sha256}"'
    headers["Last-Modified"] = http_date(upload_time.timestamp())
    headers["Cache-Control"] = f"max-age={ONE_YEAR}, public, immutable"
    headers["Accept-Ranges"] = "bytes"
    conditional = get_conditional_response(
        request, etag=headers["ETag"], last_modified=int(upload_time.timestamp()), response=headers
    )
    if conditional.status_code != 200:
        return conditional

    try:
        handle = storage.open(path, "rb")
    except FileNotFoundError:
        return plain_text(404, "404 Not Found: the file is recorded but missing from storage.")
    if wants_metadata:
        size = storage.size(path)
    requested = byte_range(request.headers.get("Range", ""), size) if _range_applies(request, headers) else None
    if requested is False:
        handle.close()
        response = plain_text(416, "416 Requested Range Not Satisfiable")
        response["Content-Range"] = f"bytes */{size}"
        return response
    if request.method == "HEAD":
        handle.close()
        response = HttpResponse(content_type=headers["Content-Type"])
        response["Content-Length"] = str(size)
    elif requested is None:
        response = FileResponse(handle, content_type=headers["Content-Type"])
        response["Content-Length"] = str(size)
    else:
        first, last = requested
        response = StreamingHttpResponse(_read_range(handle, first, last), status=206)
        response["Content-Type"] = headers["Content-Type"]
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    for name in ("ETag", "Last-Modified", "Cache-Control", "Accept-Ranges"):
        response[name] = headers[name]
    return response


def _range_applies(request: HttpRequest, headers: HttpResponse) -> bool:
    """RFC 9110 If-Range: use the range only if the client's copy is current."""
    if_range = request.headers.get("If-Range")
    if not if_range:
        return True
    if if_range.startswith('"'):
        return if_range == headers["ETag"]
    moment = parse_http_date_safe(if_range)
    return moment is not None and http_date(moment) == headers["Last-Modified"]


def _read_range(handle, first: int, last: int) -> Iterator[bytes]:
    with handle:
        handle.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
