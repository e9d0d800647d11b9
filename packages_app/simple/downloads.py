"""``/packages/<path>``: distributions and their PEP 658 ``.metadata`` files.

Paths are content-addressed, so a URL's bytes never change: responses are
cacheable for a year. ``Last-Modified`` is the upload time, which is how
clients of the frozen HTML form (no ``upload-time`` there) can still apply
cool-down or exclude-newer rules. Single byte ranges are honoured: uv reads
a wheel's central directory and METADATA with range requests when a file has
no ``.metadata`` of its own. Local files are streamed by the WSGI server
(sendfile under gunicorn); with object storage we redirect to the store's URL, or
stream from the store when ``S3_DOWNLOADS=stream``.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Iterator

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from packages_app import download_counts, hot_reads, read_access
from packages_app.models import ProjectStatus, Visibility
from packages_app.simple.responses import not_found, plain_text
from packages_app.storage import (
    IMMUTABLE,
    METADATA_SUFFIX,
    PRIVATE_IMMUTABLE,
    content_type_for,
    object_chunks,
    object_size,
    package_storage,
)

_CHUNK = 64 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)\Z")
# Past any file's size: a position with more digits than this means "beyond the end". (Python refuses to
# read a number of more than 4,300 digits, and a Range header may be 8 KiB of them.)
_BEYOND_ANY_FILE = 10**18


def _position(digits: str) -> int:
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) < 19 else _BEYOND_ANY_FILE


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
        length = _position(last_text)
        return (max(size - length, 0), size - 1) if length and size else False
    first = _position(first_text)
    last = min(_position(last_text), size - 1) if last_text else size - 1
    if first >= size:
        return False
    return (first, last) if first <= last else None


@require_safe
def serve_file(request: HttpRequest, path: str) -> HttpResponseBase:
    wants_metadata = path.endswith(METADATA_SUFFIX)
    row = hot_reads.file_for_download(path.removesuffix(METADATA_SUFFIX) if wants_metadata else path)
    if row is None:
        return not_found()
    if row.project_status == ProjectStatus.QUARANTINED or (wants_metadata and not row.metadata_sha256):
        return not_found()
    restricted = row.project_visibility == Visibility.RESTRICTED
    if restricted and row.project_id not in read_access.viewer(request).restricted_ids:
        return not_found()  # as if it did not exist: a restricted project's files are its readers' alone

    storage = package_storage()
    on_local_disk = isinstance(storage, FileSystemStorage)
    # The store's URLs are signed and short-lived unless it has a public address, which only an
    # open index uses (indexsite/storages.py); a restricted file never goes to an unsigned URL.
    unsigned = not getattr(storage, "querystring_auth", True)
    whole_download = not wants_metadata and request.method == "GET" and not request.headers.get("Range")
    if not on_local_disk and settings.S3_DOWNLOADS == "redirect" and not (restricted and unsigned):
        if whole_download:
            download_counts.count(row.file_id, row.release_id, row.project_id)
        return HttpResponseRedirect(storage.url(path))

    headers = HttpResponse(content_type=content_type_for(path))
    headers["ETag"] = f'"{row.metadata_sha256 if wants_metadata else row.sha256}"'
    headers["Last-Modified"] = http_date(row.upload_time.timestamp())
    # Only an open index's open files may be kept by a shared cache.
    headers["Cache-Control"] = IMMUTABLE if settings.READ_ACCESS == "public" and not restricted else PRIVATE_IMMUTABLE
    headers["Accept-Ranges"] = "bytes"
    conditional = get_conditional_response(
        request, etag=headers["ETag"], last_modified=int(row.upload_time.timestamp()), response=headers
    )
    assert conditional is not None  # None only when no response is passed in
    if conditional.status_code != 200:
        return conditional

    try:
        # A .metadata's size is not recorded.
        size = object_size(storage, path) if wants_metadata else row.size
        response: HttpResponseBase
        requested = byte_range(request.headers.get("Range", ""), size) if _range_applies(request, headers) else None
        if requested is False:
            response = plain_text(416, "416 Requested Range Not Satisfiable")
            response["Content-Range"] = f"bytes */{size}"
            return response
        if request.method == "HEAD":
            response = HttpResponse(content_type=headers["Content-Type"])
            response["Content-Length"] = str(size)
        elif on_local_disk:
            response = local_file_response(storage, path, size, requested, headers["Content-Type"])
        else:
            response = object_store_response(storage, path, size, requested, headers["Content-Type"])
    except FileNotFoundError:
        return plain_text(404, "404 Not Found: the file is recorded but missing from storage.")
    if whole_download and response.status_code == 200:
        download_counts.count(row.file_id, row.release_id, row.project_id)
    for name in ("ETag", "Last-Modified", "Cache-Control", "Accept-Ranges"):
        response[name] = headers[name]
    return response


def local_file_response(storage, path, size, requested, content_type) -> HttpResponseBase:
    handle = storage.open(path, "rb")
    if requested is None:
        # FileResponse lets gunicorn send the file with sendfile().
        response = FileResponse(handle, content_type=content_type)
        response["Content-Length"] = str(size)
        return response
    first, last = requested
    return _partial(_FileRange(handle, first, last), first, last, size, content_type)


def object_store_response(storage, path, size, requested, content_type) -> StreamingHttpResponse:
    if requested is None:
        response = StreamingHttpResponse(object_chunks(storage, path), content_type=content_type)
        response["Content-Length"] = str(size)
        return response
    first, last = requested
    return _partial(object_chunks(storage, path, first, last), first, last, size, content_type)


def _partial(chunks: Iterable[bytes], first: int, last: int, size: int, content_type: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Content-Length"] = str(last - first + 1)
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


class _FileRange:
    """Bytes ``first``..``last`` of an open file. The response closes it when it is closed, read or
    not: a generator that never started would leave the file to the garbage collector."""

    def __init__(self, handle, first: int, last: int) -> None:
        self._handle = handle
        self._chunks = _read_range(handle, first, last)

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def close(self) -> None:
        self._chunks.close()
        self._handle.close()


def _read_range(handle, first: int, last: int) -> Generator[bytes, None, None]:
    with handle:
        handle.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
