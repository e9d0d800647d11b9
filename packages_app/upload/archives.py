"""Archive sanity checks for an uploaded distribution file.

The upload is already on disk; this stage opens it as the archive its
filename claims, rejects anything hostile or malformed, and hands back the
core metadata (the wheel's METADATA for PEP 658, the sdist's or egg's
PKG-INFO). Nothing is ever extracted: members are read with ``zipfile`` and
``tarfile`` straight from the file, and every read is bounded.
"""

from __future__ import annotations

import configparser
import gzip
import io
import posixpath
import re
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Generator
from contextlib import closing
from pathlib import Path
from typing import IO

from packaging.metadata import parse_email
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from packages_app.models import PackageType
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

# Legacy binary formats that are stored as they are, without a look inside.
UNINSPECTED_PACKAGETYPES = frozenset({"bdist_wininst", "bdist_msi", "bdist_rpm", "bdist_dmg"})

ZIP_COMPRESSION_TYPES = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # an end-of-directory record and nothing before it
_GZIP_MAGIC = b"\x1f\x8b"
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_ZIP_FLAG_ENCRYPTED = 0x01
_ZIP_FLAG_DATA_DESCRIPTOR = 0x08
_ZIP_FLAG_UTF8 = 0x800
# A data descriptor after a member's data: at most signature, CRC and two
# 8-byte zip64 sizes.
_MAX_DATA_DESCRIPTOR = 24

_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def inspect_distribution(path: Path, filename: str, packagetype: str) -> bytes | None:
    """Check the archive; return the wheel's METADATA bytes (for PEP 658), the sdist's PKG-INFO bytes,
    an egg's EGG-INFO/PKG-INFO bytes, or None for legacy binary types that are not inspected."""
    if packagetype in UNINSPECTED_PACKAGETYPES:
        return None
    if packagetype == PackageType.BDIST_WHEEL and filename.endswith(".whl"):
        return _inspect_wheel(path, filename)
    if packagetype == PackageType.SDIST and filename.endswith(".tar.gz"):
        return _inspect_tar_sdist(path, filename)
    if packagetype == PackageType.SDIST and filename.endswith(".zip"):
        return _inspect_zip_sdist(path, filename)
    if packagetype == "bdist_egg" and filename.endswith(".egg"):
        return _inspect_egg(path, filename)
    if packagetype == "bdist_dumb" and filename.endswith(".zip"):
        _open_zip(path, filename).close()
        return None
    if packagetype == "bdist_dumb" and filename.endswith(".tar.gz"):
        with closing(_iter_tar(path, filename)) as members:
            for _member in members:
                pass  # the member rules run as each member is read
        return None
    raise _invalid(f"'{filename}' is not a valid filename for package type '{packagetype}'.")


def _invalid(detail: str) -> UploadError:
    return bad_request(f"Invalid distribution file. {detail}")


def _size_text(size: int) -> str:
    return f"{size // MiB} MiB" if size % MiB == 0 else f"{size} bytes"


# --- Shared member rules ---------------------------------------------------


def _member_parts(name: str, *, is_dir: bool) -> list[str]:
    """Path segments of a member name, refusing anything that could land outside the archive's directory."""
    if name.startswith("/") or _DRIVE_LETTER.match(name):
        raise _invalid(f"Archive member {name!r} has an absolute path.")
    if "\\" in name:
        raise _invalid(f"Archive member {name!r} contains a backslash.")
    if _CONTROL_CHARS.search(name):
        raise _invalid(f"Archive member {name!r} contains a control character.")
    raw = name.split("/")
    if ".." in raw:
        raise _invalid(f"Archive member {name!r} contains a '..' path segment.")
    # "./pkg-1.0/x" and "pkg-1.0//x" name the same file as "pkg-1.0/x".
    parts = [part for part in raw if part not in ("", ".")]
    if not parts and not is_dir:
        raise _invalid(f"Archive member {name!r} has an empty name.")
    return parts


class _SeenNames:
    """Rejects two members that would be written to the same path; repeated directories are harmless."""

    def __init__(self) -> None:
        self._is_dir: dict[str, bool] = {}

    def add(self, parts: list[str], *, is_dir: bool, name: str) -> None:
        key = "/".join(parts)
        previous = self._is_dir.get(key)
        if previous is not None and not (previous and is_dir):
            raise _invalid(f"Archive contains more than one member named {name!r}.")
        self._is_dir[key] = is_dir


def _check_member_count(count: int) -> None:
    if count > MAX_MEMBERS:
        raise _invalid(f"Archive has more than {MAX_MEMBERS} members.")


def _check_expanded_size(total: int, compressed_size: int) -> None:
    if total > MAX_UNCOMPRESSED_SIZE:
        raise _invalid(f"File is larger than {_size_text(MAX_UNCOMPRESSED_SIZE)} when uncompressed.")
    if total > COMPRESSION_RATIO_THRESHOLD and total > MAX_COMPRESSION_RATIO * max(compressed_size, 1):
        raise _invalid(f"File exceeds compression ratio of {MAX_COMPRESSION_RATIO}.")


def _read_capped(stream: IO[bytes], label: str) -> bytes:
    # One byte more than allowed tells "exactly at the limit" from "over it"
    # without trusting the size the archive declares.
    data = stream.read(MAX_METADATA_SIZE + 1)
    if len(data) > MAX_METADATA_SIZE:
        raise _invalid(f"{label} is larger than {_size_text(MAX_METADATA_SIZE)}.")
    return data


def _metadata_text(data: bytes, label: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid(f"{label} is not valid UTF-8.") from None
    if "\x00" in text:
        raise _invalid(f"{label} contains binary data.")
    return text


def _check_identity(data: bytes, label: str, what: str, expected_name: str, expected_version: Version) -> None:
    """The Name and Version in core metadata must be the ones the filename promises."""
    raw, _unparsed = parse_email(_metadata_text(data, label))
    name = raw.get("name")
    version = raw.get("version")
    if not name:
        raise _invalid(f"{label} has no single Name field.")
    if not version:
        raise _invalid(f"{label} has no single Version field.")
    if normalize_name(name) != normalize_name(expected_name):
        raise _invalid(f"{what} is for project '{expected_name}', but its {label} has Name '{name}'.")
    try:
        parsed = Version(version)
    except InvalidVersion:
        raise _invalid(f"{label} has an invalid Version '{version}'.") from None
    if parsed != expected_version:
        raise _invalid(f"{what} is for version '{expected_version}', but its {label} has Version '{version}'.")


# --- Zip -------------------------------------------------------------------


def _open_zip(path: Path, filename: str) -> zipfile.ZipFile:
    """Open a zip-based distribution after checking its structure and every member's header."""
    with path.open("rb") as fp:
        head = fp.read(tarfile.BLOCKSIZE)
    if head.startswith(_EMPTY_ZIP_MAGIC):
        raise _invalid(f"'{filename}' is an empty zip archive.")
    if not head.startswith(_ZIP_MAGIC):
        raise _invalid(f"'{filename}' is not a zip archive.")
    if _is_tar_header(head):
        raise _invalid(f"'{filename}' is both a zip and a tar archive.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, NotImplementedError, UnicodeDecodeError, EOFError, struct.error) as exc:
        raise _invalid(f"'{filename}' is not a valid zip archive: {exc}") from None
    try:
        _check_zip_members(archive, path.stat().st_size)
        _check_zip_layout(archive, path)
    except BaseException:
        archive.close()
        raise
    return archive


def _is_tar_header(block: bytes) -> bool:
    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


def _check_zip_members(archive: zipfile.ZipFile, compressed_size: int) -> None:
    infos = archive.infolist()
    _check_member_count(len(infos))
    seen = _SeenNames()
    total = 0
    for info in infos:
        name = info.orig_filename  # zipfile silently cuts filename at a NUL; the original keeps it
        is_dir = _is_zip_dir(info)
        seen.add(_member_parts(name, is_dir=is_dir), is_dir=is_dir, name=name)
        if info.compress_type not in ZIP_COMPRESSION_TYPES:
            raise _invalid(
                f"File does not use a supported compression type: member {name!r} uses method "
                f"{info.compress_type}; only stored and deflated are accepted."
            )
        if info.flag_bits & _ZIP_FLAG_ENCRYPTED:
            raise _invalid(f"Archive member {name!r} is encrypted.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _invalid(f"Archive member {name!r} is a symbolic link.")
        total += info.file_size
        _check_expanded_size(total, compressed_size)


def _is_zip_dir(info: zipfile.ZipInfo) -> bool:
    # ZipInfo.is_dir() fails on an empty name, which hostile archives have.
    return info.orig_filename.endswith("/")


def _check_zip_layout(archive: zipfile.ZipFile, path: Path) -> None:
    """Members must tile the file from offset 0 up to the central directory.

    This refuses data prepended to the zip (polyglots, self-extractors),
    members sharing bytes (overlapping zip bombs) and bytes hidden between
    members, and local headers that name a different file than the central
    directory does.
    """
    infos = sorted(archive.infolist(), key=lambda info: info.header_offset)
    if not infos:
        raise _invalid("Archive is empty.")
    if infos[0].header_offset != 0:
        raise _invalid("Archive has data before its first member.")
    end = 0
    slack = 0
    with path.open("rb") as fp:
        for info in infos:
            _check_gap(info.header_offset, end, slack)
            end = info.header_offset + _local_header_size(fp, info) + info.compress_size
            slack = _MAX_DATA_DESCRIPTOR if info.flag_bits & _ZIP_FLAG_DATA_DESCRIPTOR else 0
    _check_gap(archive.start_dir, end, slack)


def _check_gap(offset: int, previous_end: int, slack: int) -> None:
    if offset < previous_end:
        raise _invalid("Archive members overlap.")
    if offset - previous_end > slack:
        raise _invalid("Archive has data between its members.")


def _local_header_size(fp: IO[bytes], info: zipfile.ZipInfo) -> int:
    fp.seek(info.header_offset)
    header = fp.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or not header.startswith(_ZIP_MAGIC):
        raise _invalid(f"Archive member {info.orig_filename!r} has a corrupt local header.")
    *_fields, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    encoding = "utf-8" if info.flag_bits & _ZIP_FLAG_UTF8 else "cp437"
    local_name = fp.read(name_length).decode(encoding, errors="replace")
    if local_name != info.orig_filename:
        raise _invalid(f"Archive member {info.orig_filename!r} has a different name in its local header.")
    return _LOCAL_HEADER.size + name_length + extra_length


def _zip_file_names(archive: zipfile.ZipFile) -> set[str]:
    return {info.orig_filename for info in archive.infolist() if not _is_zip_dir(info)}


def _read_zip_member(archive: zipfile.ZipFile, name: str, label: str) -> bytes:
    try:
        with archive.open(name) as stream:
            return _read_capped(stream, label)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise _invalid(f"{label} could not be read: {exc}") from None


def _zip_top_directory(archive: zipfile.ZipFile, kind: str, filename: str) -> str:
    tops = set()
    for info in archive.infolist():
        parts = _member_parts(info.orig_filename, is_dir=_is_zip_dir(info))
        if len(parts) == 1 and not _is_zip_dir(info):
            raise _invalid(f"{kind} '{filename}' has a file outside its top-level directory: {info.orig_filename!r}")
        tops.update(parts[:1])
    if len(tops) != 1:
        raise _invalid(f"{kind} '{filename}' must contain exactly one top-level directory.")
    return tops.pop()


# --- Wheel -----------------------------------------------------------------


def _inspect_wheel(path: Path, filename: str) -> bytes:
    try:
        name, version, _build, _tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise _invalid(str(exc)) from None
    raw_name, raw_version = filename.split("-")[:2]
    with _open_zip(path, filename) as archive:
        dist_info = _wheel_dist_info(archive, filename, name, version) or f"{raw_name}-{raw_version}.dist-info"
        files = _zip_file_names(archive)
        for required in ("METADATA", "WHEEL", "RECORD"):
            if f"{dist_info}/{required}" not in files:
                raise _invalid(
                    f"Wheel '{filename}' does not contain the required {required} file: {dist_info}/{required}"
                )
        metadata = _read_zip_member(archive, f"{dist_info}/METADATA", "METADATA")
        entry_points = f"{dist_info}/entry_points.txt"
        if entry_points in files:
            _check_entry_points(_read_zip_member(archive, entry_points, "entry_points.txt"), filename)
    _check_identity(metadata, "METADATA", f"Wheel '{filename}'", str(name), version)
    return metadata


def _wheel_dist_info(archive: zipfile.ZipFile, filename: str, name: str, version: Version) -> str | None:
    """The top-level .dist-info directory, which must belong to the name and version in the filename.

    Its spelling may differ from the filename's (case, '_' vs '-', '1.0' vs
    '1.0.0'), so it is matched by canonical name and version equality.
    """
    found = set()
    for info in archive.infolist():
        parts = _member_parts(info.orig_filename, is_dir=_is_zip_dir(info))
        # A directory is either listed itself or implied by a member inside it.
        if parts and parts[0].endswith(".dist-info") and (len(parts) > 1 or _is_zip_dir(info)):
            found.add(parts[0])
    if len(found) > 1:
        raise _invalid(f"Wheel '{filename}' contains more than one .dist-info directory: {', '.join(sorted(found))}")
    directory = found.pop() if found else None
    return directory if directory and _dist_info_matches(directory, name, version) else None


def _dist_info_matches(directory: str, name: str, version: Version) -> bool:
    stem = directory.removesuffix(".dist-info")
    # Try every '-' as the separator: unescaped names may contain '-' too.
    for index, char in enumerate(stem):
        if char != "-" or normalize_name(stem[:index]) != name:
            continue
        try:
            if Version(stem[index + 1 :]) == version:
                return True
        except InvalidVersion:
            continue
    return False


def _check_entry_points(data: bytes, filename: str) -> None:
    # Entry point names are case-sensitive and '=' is the only separator.
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    # configparser's documented way to keep keys' case; its stubs declare optionxform a method.
    parser.optionxform = str  # type: ignore[method-assign, assignment]
    try:
        parser.read_string(data.decode("utf-8"))
    except (configparser.Error, UnicodeDecodeError):
        raise _invalid(f"Wheel '{filename}' has invalid entry points defined in the entry_points.txt file.") from None


# --- Egg and zip sdist -----------------------------------------------------


def _inspect_egg(path: Path, filename: str) -> bytes:
    with _open_zip(path, filename) as archive:
        if "EGG-INFO/PKG-INFO" not in _zip_file_names(archive):
            raise _invalid(f"Egg '{filename}' does not contain the required PKG-INFO file: EGG-INFO/PKG-INFO")
        pkg_info = _read_zip_member(archive, "EGG-INFO/PKG-INFO", "PKG-INFO")
    _metadata_text(pkg_info, "PKG-INFO")
    return pkg_info


def _inspect_zip_sdist(path: Path, filename: str) -> bytes:
    # Only legacy imports arrive as .zip; their versions may predate PEP 440,
    # so the filename is not matched against PKG-INFO here.
    with _open_zip(path, filename) as archive:
        top = _zip_top_directory(archive, "Sdist", filename)
        if f"{top}/PKG-INFO" not in _zip_file_names(archive):
            raise _invalid(f"Sdist '{filename}' does not contain the required PKG-INFO file: {top}/PKG-INFO")
        pkg_info = _read_zip_member(archive, f"{top}/PKG-INFO", "PKG-INFO")
    _metadata_text(pkg_info, "PKG-INFO")
    return pkg_info


# --- Tar -------------------------------------------------------------------


class _GuardedStream:
    """The decompressed bytes of a .tar.gz, as tarfile reads them, refusing to inflate past the size limits.

    Counting the position here, rather than adding up member sizes, also
    covers header blocks, padding and pax records. tarfile reads a pax or GNU
    long-name header into memory in one call, so one oversized read is
    refused as well.
    """

    def __init__(self, stream: gzip.GzipFile, compressed_size: int) -> None:
        self._stream = stream
        self._compressed_size = compressed_size

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > MAX_METADATA_SIZE + tarfile.BLOCKSIZE:
            raise _invalid(f"Tar archive has a header larger than {_size_text(MAX_METADATA_SIZE)}.")
        _check_expanded_size(self._stream.tell() + size, self._compressed_size)
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._stream.tell()
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("only absolute and relative seeks are supported")
        _check_expanded_size(offset, self._compressed_size)
        return self._stream.seek(offset)

    def tell(self) -> int:
        return self._stream.tell()


# What a broken gzip stream or tar structure raises from inside tarfile.
_TAR_ERRORS = (tarfile.TarError, gzip.BadGzipFile, EOFError, zlib.error, ValueError)


def _check_gzip_file(path: Path, filename: str) -> None:
    with path.open("rb") as fp:
        magic = fp.read(len(_GZIP_MAGIC))
    if magic != _GZIP_MAGIC:
        raise _invalid(f"'{filename}' is not a gzip-compressed tar archive.")
    if _opens_as_zip(path):
        raise _invalid(f"'{filename}' is both a zip and a tar archive.")


def _open_tar(stream: _GuardedStream, filename: str) -> tarfile.TarFile:
    try:
        # Reading needs only read/seek/tell; the stubs' file protocol also asks for write() and close().
        return tarfile.open(fileobj=stream, mode="r:")  # type: ignore[call-overload]
    except _TAR_ERRORS as exc:
        raise _invalid(f"'{filename}' is not a valid gzip-compressed tar archive: {exc}") from None


def _opens_as_zip(path: Path) -> bool:
    # is_zipfile() only looks for an end-of-directory signature, which random
    # compressed bytes contain now and then; reading the directory does not.
    try:
        with zipfile.ZipFile(path):
            return True
    except (zipfile.BadZipFile, NotImplementedError, UnicodeDecodeError, EOFError, struct.error, OSError):
        return False


def _iter_tar(path: Path, filename: str) -> Generator[tuple[tarfile.TarFile, tarfile.TarInfo, list[str]], None, None]:
    """Each member of a .tar.gz with its path segments, once it has passed the member rules.

    Members come one at a time, so the caller can read one (PKG-INFO) before
    the stream moves past it; the archive is never rewound.
    """
    _check_gzip_file(path, filename)
    with gzip.open(path, "rb") as stream, _open_tar(_GuardedStream(stream, path.stat().st_size), filename) as archive:
        seen = _SeenNames()
        count = 0
        while (member := _next_tar_member(archive, filename)) is not None:
            count += 1
            _check_member_count(count)
            parts = _member_parts(member.name, is_dir=member.isdir())
            seen.add(parts, is_dir=member.isdir(), name=member.name)
            _check_tar_member_type(member)
            yield archive, member, parts


def _next_tar_member(archive: tarfile.TarFile, filename: str) -> tarfile.TarInfo | None:
    try:
        return archive.next()
    except _TAR_ERRORS as exc:
        raise _invalid(f"'{filename}' is not a valid gzip-compressed tar archive: {exc}") from None


def _check_tar_member_type(member: tarfile.TarInfo) -> None:
    if member.issparse():
        raise _invalid(f"Archive member {member.name!r} is a sparse file.")
    if member.ischr() or member.isblk() or member.isfifo():
        raise _invalid(f"Archive member {member.name!r} is a device or FIFO.")
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        raise _invalid(f"Archive member {member.name!r} has an unsupported type {member.type!r}.")
    if member.issym() or member.islnk():
        _link_target_parts(member)


def _link_target_parts(member: tarfile.TarInfo) -> list[str]:
    """Where a link points, as path segments from the archive root; refuses targets outside the archive."""
    target = member.linkname
    if not target or target.startswith("/") or _DRIVE_LETTER.match(target) or "\\" in target:
        raise _invalid(f"Archive member {member.name!r} links to {target!r}, outside the archive.")
    if _CONTROL_CHARS.search(target):
        raise _invalid(f"Archive member {member.name!r} links to a name with a control character.")
    # A symlink is relative to its own directory, a hard link to the archive root.
    base = posixpath.dirname(member.name) if member.issym() else ""
    resolved = posixpath.normpath(posixpath.join(base, target))
    if resolved == ".." or resolved.startswith("../"):
        raise _invalid(f"Archive member {member.name!r} links to {target!r}, outside the archive.")
    return [part for part in resolved.split("/") if part not in ("", ".")]


def _inspect_tar_sdist(path: Path, filename: str) -> bytes:
    try:
        identity = parse_sdist_filename(filename)
    except InvalidSdistFilename:
        # Old sdists (imports only: uploads are held to PEP 625 before this) may carry a
        # non-PEP 440 version; the importer checks their name against PKG-INFO itself.
        identity = None
    top: str | None = None
    pkg_info: bytes | None = None
    # closing() shuts the file as soon as a member is refused, not when the generator is collected.
    with closing(_iter_tar(path, filename)) as members:
        for archive, member, parts in members:
            if not parts:
                continue  # "./" itself
            top = top or parts[0]
            _check_sdist_member(member, parts, top, filename)
            if parts == [top, "PKG-INFO"]:
                pkg_info = _read_tar_pkg_info(archive, member, filename)
    if top is None:
        raise _invalid(f"Sdist '{filename}' is empty.")
    if pkg_info is None:
        raise _invalid(f"Sdist '{filename}' does not contain the required PKG-INFO file: {top}/PKG-INFO")
    if identity is not None:
        _check_identity(pkg_info, "PKG-INFO", f"Sdist '{filename}'", str(identity[0]), identity[1])
    return pkg_info


def _check_sdist_member(member: tarfile.TarInfo, parts: list[str], top: str, filename: str) -> None:
    if parts[0] != top:
        raise _invalid(
            f"Sdist '{filename}' must contain exactly one top-level directory, not '{top}' and '{parts[0]}'."
        )
    if len(parts) == 1 and not member.isdir():
        raise _invalid(f"Sdist '{filename}' has a file outside its top-level directory: {member.name!r}")
    if (member.issym() or member.islnk()) and _link_target_parts(member)[:1] != [top]:
        raise _invalid(f"Archive member {member.name!r} links to {member.linkname!r}, outside '{top}'.")


def _read_tar_pkg_info(archive: tarfile.TarFile, member: tarfile.TarInfo, filename: str) -> bytes:
    if not member.isreg():
        raise _invalid(f"Sdist '{filename}' has a PKG-INFO that is not a regular file.")
    if member.size > MAX_METADATA_SIZE:
        raise _invalid(f"PKG-INFO is larger than {_size_text(MAX_METADATA_SIZE)}.")
    # The generator yields before the stream moves on, so this reads forward only.
    stream = archive.extractfile(member)
    assert stream is not None  # a regular member always has a stream
    try:
        with stream:
            return _read_capped(stream, "PKG-INFO")
    except _TAR_ERRORS as exc:
        raise _invalid(f"PKG-INFO could not be read: {exc}") from None
