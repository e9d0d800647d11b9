"""``POST /legacy/``: the upload endpoint twine and ``uv publish`` speak."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousMultipartForm, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, QueryDict, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt

from packages_app.authentication import Identity, InvalidCredentials, identify
from packages_app.models import File
from packages_app.throttling import TooManyFailures
from packages_app.trusted_publishing import service as trusted_publishing
from packages_app.upload import checks, filenames, form, metadata, pipeline
from packages_app.upload.errors import UploadError, bad_request
from packages_app.upload.receive import (
    DISTRIBUTION_FIELD,
    OTHER_PART_LIMIT,
    CountingReader,
    HashingUploadHandler,
    ReceivedFile,
    UploadParser,
)

REALM = 'Basic realm="package index upload", charset="UTF-8"'
# Past this the body is not even read: no form fields and file of allowed size come near it.
_SLACK = 64 * 1024**2
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]+")
_USER_AGENT_LENGTH = File._meta.get_field("user_agent").max_length


def error_response(error: UploadError) -> HttpResponse:
    """The message goes in the reason phrase (twine prints it) and in the body."""
    reason = _UNPRINTABLE.sub(" ", error.message).encode("latin-1", "replace").decode("latin-1")
    response = HttpResponse(error.message + "\n", status=error.status, content_type="text/plain; charset=utf-8")
    response.reason_phrase = reason
    for header, value in error.headers.items():
        response[header] = value
    return response


@csrf_exempt
def legacy_upload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = HttpResponse("This is the upload endpoint; POST distributions here with twine or uv.\n", status=405)
        response["Allow"] = "POST"
        return response
    try:
        identity, declared = _admit(request)
    except UploadError as error:
        # Refused on the headers alone, before a byte of the body was read: close the
        # connection rather than have the server wait for (or drain) a body nobody wants.
        response = error_response(error)
        response["Connection"] = "close"
        return response
    try:
        outcome = _upload(request, identity, declared)
    except UploadError as error:
        return error_response(error)
    if outcome.created:
        status = "created"
    elif outcome.restored:
        status = "already present; its stored bytes were missing or corrupt and are restored"
    else:
        status = "already present"
    return HttpResponse(f"OK: {outcome.file.filename} {status}\n", content_type="text/plain; charset=utf-8")


@csrf_exempt
def legacy_upload_without_slash(request: HttpRequest) -> HttpResponse:
    message = "An upload was attempted to /legacy but the expected upload URL is /legacy/ (with a trailing slash)"
    response = error_response(UploadError(308, message))
    response["Location"] = request.build_absolute_uri("/legacy/")
    return response


def _authenticate(request: HttpRequest) -> Identity:
    try:
        identity = identify(request.META.get("HTTP_AUTHORIZATION", ""), request, uploading=True)
    except InvalidCredentials as exc:
        raise UploadError(401, str(exc), headers={"WWW-Authenticate": REALM}) from None
    except TooManyFailures as exc:
        raise UploadError(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
    if identity is None:
        raise UploadError(
            401, "Invalid or non-existent authentication information.", headers={"WWW-Authenticate": REALM}
        )
    return identity


@dataclass(frozen=True)
class _Body:
    post: QueryDict
    files: MultiValueDict
    file_names: list[tuple[str, str | None]]  # each file part's name as sent, and as kept


def _content_length(request: HttpRequest) -> int:
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        raise bad_request(f"Invalid Content-Length: {declared[:40]!r}.")
    return int(declared)


_FORM_ERRORS = (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    SuspiciousMultipartForm,
    MultiPartParserError,
    UnicodeDecodeError,  # from the parser's strict UTF-8 (receive.STRICT_UTF8)
)


def _admit(request: HttpRequest) -> tuple[Identity, int]:
    """What the headers alone decide: the declared size, the credentials and the lockout.

    Django reads the body only when asked, so a client refused here never gets to make
    the server wait for its body (a byte a second, or gigabytes).
    """
    declared = _content_length(request)
    if declared > settings.MAX_FILE_SIZE + settings.DATA_UPLOAD_MAX_MEMORY_SIZE + _SLACK:
        raise checks.file_too_large()
    return _authenticate(request), declared


def _read_body(request: HttpRequest, declared: int) -> _Body:
    stream = CountingReader(request)
    try:
        parser = UploadParser(
            request.META, stream, [HashingUploadHandler(request, max_file_size=settings.MAX_FILE_SIZE)]
        )
        post, files = parser.parse()
    except UnreadablePostError:
        # The connection failed or the body stopped arriving (the server's time limit).
        raise _ended_early(stream.received, declared) or bad_request("The upload could not be read.") from None
    except _FORM_ERRORS as exc:
        _drain(stream)
        raise _ended_early(stream.received, declared) or _form_error(exc) from None
    # Django deletes the temporary files of request.FILES when the request ends. (Django's own
    # attributes behind request.POST and request.FILES; the stubs do not declare them.)
    request._post, request._files = post, files  # type: ignore[attr-defined]
    # A body that stops short of its Content-Length was cut off on the way, even when what
    # arrived happens to end like a complete form.
    error = _ended_early(stream.received, declared)
    if error is not None:
        raise error
    return _Body(post, files, parser.file_names)


def _ended_early(received: int, declared: int) -> UploadError | None:
    if received >= declared:
        return None
    return bad_request(
        f"The upload ended after {received} of the {declared} bytes its Content-Length declares; nothing was kept."
    )


def _form_error(exc: Exception) -> UploadError:
    if isinstance(exc, RequestDataTooBig):
        return bad_request("The form fields are too large (the description, most likely).")
    if isinstance(exc, TooManyFieldsSent):
        return bad_request("The form has too many fields.")
    if isinstance(exc, TooManyFilesSent):
        return bad_request("The form has too many file parts; send one distribution file per upload.")
    if isinstance(exc, UnicodeDecodeError):
        return bad_request(
            "The form is not valid UTF-8: a text field holds bytes that are not UTF-8 "
            "(a file part sent without a filename counts as text)."
        )
    return bad_request(f"The upload is not a valid multipart form: {exc}")


def _drain(stream: CountingReader) -> None:
    """Read what is left of a refused body, so the client reads the answer instead of a reset connection.

    Bounded: the declared length was checked before parsing began.
    """
    with contextlib.suppress(UnreadablePostError):  # the client went away or stalled: nobody to answer
        while stream.read(64 * 1024):
            pass


def _check_file_parts(body: _Body) -> None:
    for sent, kept in body.file_names:
        filenames.check_uploaded_name(sent, kept)
    contents = body.files.getlist(DISTRIBUTION_FIELD)
    if len(contents) > 1:
        raise bad_request(f"The form has {len(contents)} '{DISTRIBUTION_FIELD}' parts; send one file per upload.")
    for key, parts in body.files.lists():
        for part in parts:
            if key != DISTRIBUTION_FIELD and isinstance(part, ReceivedFile) and part.too_large:
                raise bad_request(f"The '{key}' part is larger than {OTHER_PART_LIMIT // 1024**2} MiB.")


def _upload(request: HttpRequest, identity: Identity, declared: int) -> pipeline.Outcome:
    body = _read_body(request, declared)
    form.read_action(body.post)
    upload_form = form.read_form(body.post, body.files)
    validated = metadata.validate(upload_form)
    _check_file_parts(body)
    content = upload_form.content
    if content is None:
        raise bad_request("Upload payload does not have a file.")
    filenames.check_safe(content.name)
    filenames.check_extension(content.name, upload_form.filetype)
    # PyPI refuses image parts (a classic mistake); uv sends no content type at all.
    if (content.content_type or "").startswith("image/"):
        raise bad_request("Invalid distribution file.")
    if content.too_large:
        raise checks.file_too_large(validated.name)
    form.require_digest(upload_form)
    filenames.check_matches_metadata(content.name, upload_form.filetype, validated.name, validated.version)
    filenames.check_platform_tags(content.name)
    dist = pipeline.Distribution(
        path=Path(content.temporary_file_path()),
        filename=content.name,
        packagetype=upload_form.filetype,
        python_version=upload_form.pyversion,
        size=content.size,
        md5=content.md5,
        sha256=content.sha256,
        blake2_256=content.blake2_256,
    )
    checks.check_digests(upload_form.digests, dist)
    if identity.publisher is not None and identity.token is not None:
        # A token minted for several projects' publishers acts, for this upload, as this project's.
        acting = trusted_publishing.acting_publisher(identity.token, validated.name)
        identity = dataclasses.replace(identity, publisher=acting or identity.publisher)
    return pipeline.publish(
        pipeline.Publication(
            metadata=validated,
            dist=dist,
            identity=identity,
            # A pending trusted publisher's first upload makes its creator the new project's Owner.
            owner=identity.publisher.pending_owner if identity.publisher is not None else None,
            # Kept for the record, cut to what the column holds: a long header is no reason to refuse.
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:_USER_AGENT_LENGTH],
            comment=upload_form.comment,
        )
    )
