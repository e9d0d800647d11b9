"""``POST /legacy/``: the upload endpoint twine and ``uv publish`` speak."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from packages_app.authentication import Identity, InvalidCredentials, identify
from packages_app.upload import filenames, form, metadata, pipeline
from packages_app.upload.errors import UploadError, bad_request
from packages_app.upload.receive import HashingUploadHandler

REALM = 'Basic realm="package index upload", charset="UTF-8"'
# Past this the body is not even read: no form fields and file of allowed size come near it.
_SLACK = 64 * 1024**2
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]+")


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
        outcome = _upload(request)
    except UploadError as error:
        return error_response(error)
    status = "created" if outcome.created else "already present"
    return HttpResponse(f"OK: {outcome.file.filename} {status}\n", content_type="text/plain; charset=utf-8")


@csrf_exempt
def legacy_upload_without_slash(request: HttpRequest) -> HttpResponse:
    message = "An upload was attempted to /legacy but the expected upload URL is /legacy/ (with a trailing slash)"
    response = error_response(UploadError(308, message))
    response["Location"] = request.build_absolute_uri("/legacy/")
    return response


def _authenticate(request: HttpRequest) -> Identity:
    try:
        identity = identify(request.META.get("HTTP_AUTHORIZATION", ""), request)
    except InvalidCredentials as exc:
        raise UploadError(401, str(exc), headers={"WWW-Authenticate": REALM}) from None
    if identity is None:
        raise UploadError(
            401, "Invalid or non-existent authentication information.", headers={"WWW-Authenticate": REALM}
        )
    return identity


def _read_body(request: HttpRequest):
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.MAX_FILE_SIZE + settings.DATA_UPLOAD_MAX_MEMORY_SIZE + _SLACK:
        raise pipeline.file_too_large()
    request.upload_handlers = [HashingUploadHandler(request, max_file_size=settings.MAX_FILE_SIZE)]
    try:
        return request.POST, request.FILES
    except RequestDataTooBig:
        raise bad_request("The form fields are too large (the description, most likely).") from None
    except TooManyFieldsSent:
        raise bad_request("The form has too many fields.") from None
    except MultiPartParserError as exc:
        raise bad_request(f"The upload is not a valid multipart form: {exc}") from None


def _upload(request: HttpRequest) -> pipeline.Outcome:
    post, files = _read_body(request)
    form.read_action(post)
    identity = _authenticate(request)
    upload_form = form.read_form(post, files)
    validated = metadata.validate(upload_form)
    content = upload_form.content
    if content is None:
        raise bad_request("Upload payload does not have a file.")
    filenames.check_safe(content.name)
    filenames.check_extension(content.name, upload_form.filetype)
    # PyPI refuses image parts (a classic mistake); uv sends no content type at all.
    if (content.content_type or "").startswith("image/"):
        raise bad_request("Invalid distribution file.")
    if content.too_large:
        raise pipeline.file_too_large(validated.name)
    form.require_digest(upload_form)
    filenames.check_matches_metadata(content.name, upload_form.filetype, validated.name, validated.version)
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
    pipeline.check_digests(upload_form.digests, dist)
    return pipeline.publish(
        pipeline.Publication(
            metadata=validated,
            dist=dist,
            identity=identity,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            comment=upload_form.comment,
        )
    )
