"""What every archive is held to, zip or tar: the size limits, the member-name rules, and the core metadata's identity.

The limits are read from this module when they apply, so a test can lower them here.
"""

from __future__ import annotations

import re
from typing import IO

from packaging.metadata import parse_email
from packaging.version import InvalidVersion, Version

from packages_app.naming import normalize_name
from packages_app.upload.errors import UploadError, bad_request

MiB = 1024 * 1024

# Past this many uncompressed bytes, an archive must not be more than
# MAX_COMPRESSION_RATIO times its size on disk (PyPI's zip-bomb rule).
COMPRESSION_RATIO_THRESHOLD = 64 * MiB
MAX_COMPRESSION_RATIO = 50
# Hard ceilings whatever the ratio.
MAX_UNCOMPRESSED_SIZE = 4 * 1024 * MiB
MAX_MEMBERS = 100_000
# METADATA, PKG-INFO and entry_points.txt are read into memory, as is any
# single tar header (pax and GNU long-name headers are read whole by tarfile).
MAX_METADATA_SIZE = 16 * MiB

DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def invalid(detail: str) -> UploadError:
    return bad_request(f"Invalid distribution file. {detail}")


def size_text(size: int) -> str:
    return f"{size // MiB} MiB" if size % MiB == 0 else f"{size} bytes"


def member_parts(name: str, *, is_dir: bool) -> list[str]:
    """Path segments of a member name, refusing anything that could land outside the archive's directory."""
    if name.startswith("/") or DRIVE_LETTER.match(name):
        raise invalid(f"Archive member {name!r} has an absolute path.")
    if "\\" in name:
        raise invalid(f"Archive member {name!r} contains a backslash.")
    if CONTROL_CHARS.search(name):
        raise invalid(f"Archive member {name!r} contains a control character.")
    raw = name.split("/")
    if ".." in raw:
        raise invalid(f"Archive member {name!r} contains a '..' path segment.")
    # "./pkg-1.0/x" and "pkg-1.0//x" name the same file as "pkg-1.0/x".
    parts = [part for part in raw if part not in ("", ".")]
    if not parts and not is_dir:
        raise invalid(f"Archive member {name!r} has an empty name.")
    return parts


class SeenNames:
    """Rejects two members that would be written to the same path; repeated directories are harmless."""

    def __init__(self) -> None:
        self._is_dir: dict[str, bool] = {}

    def add(self, parts: list[str], *, is_dir: bool, name: str) -> None:
        key = "/".join(parts)
        previous = self._is_dir.get(key)
        if previous is not None and not (previous and is_dir):
            raise invalid(f"Archive contains more than one member named {name!r}.")
        self._is_dir[key] = is_dir


def check_member_count(count: int) -> None:
    if count > MAX_MEMBERS:
        raise invalid(f"Archive has more than {MAX_MEMBERS} members.")


def check_expanded_size(total: int, compressed_size: int) -> None:
    if total > MAX_UNCOMPRESSED_SIZE:
        raise invalid(f"File is larger than {size_text(MAX_UNCOMPRESSED_SIZE)} when uncompressed.")
    if total > COMPRESSION_RATIO_THRESHOLD and total > MAX_COMPRESSION_RATIO * max(compressed_size, 1):
        raise invalid(f"File exceeds compression ratio of {MAX_COMPRESSION_RATIO}.")


def read_capped(stream: IO[bytes], label: str) -> bytes:
    # One byte more than allowed tells "exactly at the limit" from "over it"
    # without trusting the size the archive declares.
    data = stream.read(MAX_METADATA_SIZE + 1)
    if len(data) > MAX_METADATA_SIZE:
        raise invalid(f"{label} is larger than {size_text(MAX_METADATA_SIZE)}.")
    return data


def metadata_text(data: bytes, label: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid(f"{label} is not valid UTF-8.") from None
    if "\x00" in text:
        raise invalid(f"{label} contains binary data.")
    return text


def check_identity(data: bytes, label: str, what: str, expected_name: str, expected_version: Version) -> None:
    """The Name and Version in core metadata must be the ones the filename promises."""
    raw, _unparsed = parse_email(metadata_text(data, label))
    name = raw.get("name")
    version = raw.get("version")
    if not name:
        raise invalid(f"{label} has no single Name field.")
    if not version:
        raise invalid(f"{label} has no single Version field.")
    if normalize_name(name) != normalize_name(expected_name):
        raise invalid(f"{what} is for project '{expected_name}', but its {label} has Name '{name}'.")
    try:
        parsed = Version(version)
    except InvalidVersion:
        raise invalid(f"{label} has an invalid Version '{version}'.") from None
    if parsed != expected_version:
        raise invalid(f"{what} is for version '{expected_version}', but its {label} has Version '{version}'.")
