"""Stage 3: the filename must be safe and agree with the metadata.

Wheels follow the binary distribution format (PEP 427/491) and new sdists
PEP 625: ``{normalised_name_with_underscores}-{normalised version}.tar.gz``.
Platform tags are not restricted to PyPI's list unless the operator turns
``ALLOW_UNSUPPORTED_PLATFORM_TAGS`` off: a private index often holds wheels
built for its own machines (plain ``linux_x86_64``).
"""

from __future__ import annotations

import re

from django.conf import settings
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from packages_app.models import PackageType
from packages_app.naming import normalize_name, wheel_name_part
from packages_app.upload import platforms
from packages_app.upload.errors import bad_request

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EXTENSION = re.compile(r"\.(tar\.gz|zip|whl)\Z", re.IGNORECASE)
_EXTENSIONS_FOR: dict[str, tuple[str, ...]] = {PackageType.SDIST: (".tar.gz",), PackageType.BDIST_WHEEL: (".whl",)}
MAX_FILENAME = 255


def check_safe(filename: str) -> None:
    """Checks that come before anything is done with the name."""
    if _CONTROL.search(filename):
        raise bad_request(
            "Cannot upload a file with non-printable characters (ordinals 0-31) "
            "or the DEL character (ordinal 127) in the name."
        )
    if "/" in filename or "\\" in filename:
        raise bad_request("Cannot upload a file with '/' or '\\' in the name.")
    if len(filename) > MAX_FILENAME:
        raise bad_request(f"The filename is longer than {MAX_FILENAME} characters.")


def check_uploaded_name(sent: str, kept: str | None) -> None:
    """An upload's file name, as the client sent it and as the form parser kept it.

    Django's parser keeps only the last path segment, resolves HTML entities
    and drops characters that are not printable; an upload whose name needed
    any of that is refused rather than stored under a name the client never
    sent. Wheel and sdist names are ASCII by spec (normalised names, PEP 440
    versions, tags), so anything else is a look-alike ('dеmo' with a Cyrillic
    'е') or invisible; imports of old files keep their names and skip this.
    """
    check_safe(sent)
    odd = next((char for char in sent if not char.isascii()), None)
    if odd is not None:
        raise bad_request(
            f"Cannot upload a file with non-ASCII characters in the name: {sent!r} contains {odd!r} (U+{ord(odd):04X})."
        )
    if sent != kept:
        raise bad_request(f"Invalid filename {sent!r}: send the distribution's own file name.")


def check_extension(filename: str, filetype: str) -> None:
    found = _EXTENSION.search(filename)
    if not found:
        raise bad_request(
            "Invalid file extension: Use .tar.gz or .whl extension. "
            "See https://peps.python.org/pep-0527 and https://peps.python.org/pep-0715 for more information."
        )
    allowed = _EXTENSIONS_FOR[filetype]
    if not filename.endswith(allowed):
        extension = found.group(0)
        raise bad_request(
            f"Invalid file extension: Extension {extension} is invalid for filetype {filetype}. "
            "See https://peps.python.org/pep-0527 and https://peps.python.org/pep-0625 for more information."
        )


def check_matches_metadata(filename: str, filetype: str, name: str, version: str) -> None:
    if filetype == PackageType.SDIST:
        _check_sdist(filename, name, version)
    else:
        _check_wheel(filename, name, version)


def _start_with(name: str):
    return bad_request(f"Start filename for '{name}' with '{wheel_name_part(name)}'.")


def _check_sdist(filename: str, name: str, version: str) -> None:
    try:
        file_name, _file_version = parse_sdist_filename(filename)
    except InvalidSdistFilename:
        raise bad_request(f"Invalid source distribution filename: {filename}") from None
    if file_name != normalize_name(name):
        raise _start_with(name)
    expected = f"{wheel_name_part(name)}-{Version(version)}.tar.gz"
    if filename != expected:
        raise bad_request(f"Filename '{filename}' is invalid, should be '{expected}'.")


def _check_wheel(filename: str, name: str, version: str) -> None:
    try:
        file_name, file_version, _build, _tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise bad_request(f"Invalid wheel filename: {exc}") from None
    if file_name != normalize_name(name):
        raise _start_with(name)
    literal = filename.split("-", 1)[0]
    if literal != wheel_name_part(name):
        raise bad_request(
            f"Filename '{filename}' should contain the normalized project name '{wheel_name_part(name)}', "
            f"not '{literal}'."
        )
    if file_version != Version(version):
        raise bad_request(f"Version in filename should be '{Version(version)}' not '{file_version}'.")


def check_platform_tags(filename: str) -> None:
    """With ``ALLOW_UNSUPPORTED_PLATFORM_TAGS=false``, every platform tag must be one PyPI takes.

    Uploads only: ``import_dists`` brings in history as it is.
    """
    if settings.ALLOW_UNSUPPORTED_PLATFORM_TAGS or not filename.endswith(".whl"):
        return
    _name, _version, _build, tags = parse_wheel_filename(filename)
    for platform in sorted({tag.platform for tag in tags}):
        if not platforms.is_supported(platform):
            raise bad_request(
                f"Binary wheel '{filename}' has an unsupported platform tag '{platform}'. "
                "This index's operator can set ALLOW_UNSUPPORTED_PLATFORM_TAGS=true."
            )
