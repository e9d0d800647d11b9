"""``/packages/upstream/<project>/<sha256>/<filename>``: upstream files, fetched once and kept.

The first download streams the file from upstream to the client while writing it to a
temporary file and hashing it. The last chunk is held back until the whole file has
been hashed: if the sha256 differs from the one upstream's page listed, the client
gets less than ``Content-Length`` (its download fails) and nothing is kept. A match
puts the file in package storage under the same path, from where every later
download is served like an uploaded file, without asking upstream. ``.metadata``
(PEP 658) is fetched whole, checked against the page's ``core-metadata`` hash, kept.

The name rules apply here as on the pages: a project that exists locally, or that the
guard refuses, has no upstream files (404), even ones kept earlier.

``fetch_and_keep`` does the same fetch, check and keep without a client (``manage.py
prefetch_upstream``, ``prefetch.py``).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import tempfile
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.files import File as DjangoFile
from django.core.files.storage import FileSystemStorage
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from packages_app import upstream
from packages_app.models import Project
from packages_app.naming import normalize_name
from packages_app.simple import downloads
from packages_app.simple.responses import not_found, plain_text
from packages_app.storage import IMMUTABLE, METADATA_SUFFIX, PRIVATE_IMMUTABLE, content_type_for, package_storage
from packages_app.upstream import client, cooldown, guard, pages, records
from packages_app.upstream.pages import UpstreamFile

logger = logging.getLogger(__name__)
_CHUNK = 64 * 1024
_MAX_METADATA_BYTES = 10 * 1024**2
# A first download must average this much once started, or it is cut (and nothing kept):
# each read is bounded by UPSTREAM_TIMEOUT_SECONDS, and this bounds a drip of tiny reads.
MIN_BYTES_PER_SECOND = 256 * 1024


class HashMismatch(Exception):
    """The bytes upstream sent are not the ones its page listed."""


class TooSlow(Exception):
    """Upstream sent the file slower than ``MIN_BYTES_PER_SECOND`` on average."""


@require_safe
def serve(request: HttpRequest, rest: str) -> HttpResponseBase:
    """``rest``: ``<project>/<sha256>/<filename>`` (or with ``.metadata``), after ``/packages/upstream/``."""
    path = pages.FILES_PREFIX + rest
    parts = rest.split("/")
    if not upstream.enabled() or len(parts) != 3:
        return not_found()
    project, sha256, filename = parts
    wants_metadata = filename.endswith(METADATA_SUFFIX)
    filename = filename.removesuffix(METADATA_SUFFIX) if wants_metadata else filename
    if project != normalize_name(project) or guard.refusal(project) is not None:
        return not_found()
    if Project.objects.by_name(project).exists():
        return not_found()  # local wins, always: even over files kept before it existed

    storage = package_storage()
    if storage.exists(path):  # kept only once checked
        if not cooldown.enabled():
            return _from_storage(request, storage, path)
        # Under a cut-off, checked against the kept page, however old: a kept file needs no upstream.
        listed = pages.kept(project).file(sha256, filename)
        if listed is not None and not cooldown.hidden(project, listed):
            return _from_storage(request, storage, path)
    try:
        page, _ = pages.current(project)
        entry = page.file(sha256, filename)
        if entry is None:  # a newer file than the kept page knows of?
            page, _ = pages.current(project, refresh=True)
            entry = page.file(sha256, filename)
    except pages.UpstreamNotFound:
        return not_found()
    except client.UpstreamError as error:
        return plain_text(error.status, f"{error.status} Upstream error: {error}")
    if entry is None or page.status == "quarantined" or (wants_metadata and not entry.metadata_sha256):
        return not_found()
    if cooldown.hidden(project, entry):
        return plain_text(404, f"404 Not Found: {filename} is held back by the upstream cool-down.")
    if storage.exists(path):
        return _from_storage(request, storage, path)
    if request.method == "HEAD" and not wants_metadata:  # not worth a download
        head = HttpResponse(content_type=content_type_for(filename))
        if entry.size is not None:
            head["Content-Length"] = str(entry.size)
        head["ETag"] = f'"{entry.sha256}"'
        _cache_headers(head)
        return head
    try:
        if wants_metadata:
            assert entry.metadata_sha256 is not None
            _fetch_metadata(entry.url + METADATA_SUFFIX, entry.metadata_sha256, storage, path)
            return _from_storage(request, storage, path)
        upstream_response = client.open_file(entry.url)
    except client.UpstreamError as error:
        return plain_text(error.status, f"{error.status} Upstream error: {error}")
    except HashMismatch as error:
        return plain_text(502, f"502 Upstream error: {error}")
    stream = _stream_and_keep(upstream_response, entry.sha256, entry.size, storage, path)
    # The first chunk is read before the answer starts: a file that fits in it (or fails at
    # once) gets a 502 the client can read, not a body cut short.
    try:
        first = next(stream, b"")
    except HashMismatch as error:
        return plain_text(502, f"502 Upstream error: {error}")
    except TooSlow as error:
        return plain_text(504, f"504 Upstream error: {error}")
    except client.read_stream_errors() as error:
        return plain_text(502, f"502 Upstream error: the upstream download was cut short ({error})")
    response = StreamingHttpResponse(itertools.chain((first,), stream), content_type=content_type_for(filename))
    if entry.size is not None:
        response["Content-Length"] = str(entry.size)
    response["ETag"] = f'"{entry.sha256}"'
    _cache_headers(response)
    return response


def fetch_and_keep(normalized: str, entry: UpstreamFile, *, on_bytes: Callable[[int], None] | None = None) -> list[str]:
    """Keep ``entry`` of ``normalized``'s upstream page, and its ``.metadata`` when the page lists
    its hash, in package storage: what is not kept yet is fetched and checked exactly as a
    client's first download is (same size and time bounds, same sha256 check, nothing kept on
    a mismatch). The metadata is fetched only once the file is kept.

    The caller has applied the name rules and the cut-offs. ``on_bytes`` is told the size of
    each piece of the file as it arrives. Returns the storage paths fetched now ([]: all were
    kept already). Raises ``client.UpstreamError``, ``HashMismatch``, ``TooSlow``, or one of
    ``client.read_stream_errors()`` when upstream fails midway.
    """
    storage = package_storage()
    path = pages.file_path(normalized, entry)
    fetched = []
    if not storage.exists(path):
        for chunk in _stream_and_keep(client.open_file(entry.url), entry.sha256, entry.size, storage, path):
            if on_bytes is not None:
                on_bytes(len(chunk))
        fetched.append(path)
    if entry.metadata_sha256 and not storage.exists(path + METADATA_SUFFIX):
        _fetch_metadata(entry.url + METADATA_SUFFIX, entry.metadata_sha256, storage, path + METADATA_SUFFIX)
        fetched.append(path + METADATA_SUFFIX)
    return fetched


def _cache_headers(response: HttpResponseBase) -> None:
    response["Cache-Control"] = IMMUTABLE if settings.READ_ACCESS == "public" else PRIVATE_IMMUTABLE
    response["X-Index-Source"] = "upstream"


def _from_storage(request: HttpRequest, storage, path: str) -> HttpResponseBase:
    size = storage.size(path)
    content_type = content_type_for(path)
    requested = downloads.byte_range(request.headers.get("Range", ""), size)
    if requested is False:
        response: HttpResponseBase = plain_text(416, "416 Requested Range Not Satisfiable")
        response["Content-Range"] = f"bytes */{size}"
        return response
    if request.method == "HEAD":
        response = HttpResponse(content_type=content_type)
        response["Content-Length"] = str(size)
    elif isinstance(storage, FileSystemStorage):
        response = downloads.local_file_response(storage, path, size, requested, content_type)
    else:
        response = downloads.object_store_response(storage, path, size, requested, content_type)
    response["Accept-Ranges"] = "bytes"
    _cache_headers(response)
    return response


def _stream_and_keep(upstream_response, sha256: str, size: int | None, storage, path: str) -> Iterator[bytes]:
    """Upstream's bytes, one chunk behind; kept in storage once the whole file matched ``sha256``."""
    digest = hashlib.sha256()
    limit = size if size is not None else settings.MAX_FILE_SIZE
    deadline = time.monotonic() + settings.UPSTREAM_TIMEOUT_SECONDS + limit / MIN_BYTES_PER_SECOND
    received = 0
    with tempfile.TemporaryFile() as spool:
        try:
            pending = b""
            for chunk in upstream_response.stream(_CHUNK):
                received += len(chunk)
                if received > limit:
                    raise HashMismatch(f"upstream sent more than {limit} bytes for {path}")
                if time.monotonic() > deadline:
                    raise TooSlow(f"upstream sent {received} bytes of {path} too slowly")
                digest.update(chunk)
                spool.write(chunk)
                if pending:
                    yield pending
                pending = chunk
            if digest.hexdigest() != sha256:
                raise HashMismatch(f"sha256 of {path} is {digest.hexdigest()}, upstream listed {sha256}")
            spool.seek(0)
            _keep(storage, path, spool)
            yield pending
        except (HashMismatch, TooSlow):
            logger.error("Upstream download refused: %s", path, exc_info=True)
            raise
        except client.read_stream_errors() as error:
            logger.error("Upstream download cut short: %s (%s)", path, error)
            raise
        finally:
            upstream_response.release_conn()


def _fetch_metadata(url: str, sha256: str, storage, path: str) -> None:
    upstream_response = client.open_file(url)
    try:
        body = upstream_response.read(_MAX_METADATA_BYTES + 1, decode_content=True)
    except client.read_stream_errors() as error:
        raise client.UpstreamError(f"the upstream metadata file was cut short ({error})") from None
    finally:
        upstream_response.release_conn()
    if len(body) > _MAX_METADATA_BYTES or hashlib.sha256(body).hexdigest() != sha256:
        raise HashMismatch(f"the metadata of {path} does not match upstream's listed sha256")
    with tempfile.TemporaryFile() as spool:
        spool.write(body)
        spool.seek(0)
        _keep(storage, path, spool)


def _keep(storage, path: str, spool) -> None:
    """Put the checked bytes at ``path``, unless a concurrent first download already did."""
    if storage.exists(path):
        return
    size = spool.seek(0, 2)
    spool.seek(0)
    saved = storage.save(path, DjangoFile(spool))
    if saved != path:  # the other download won between the check and the save: same bytes, keep one
        storage.delete(saved)
    records.file_kept(path, size)
    logger.info("upstream file kept: %s (%d bytes)", path, size)
