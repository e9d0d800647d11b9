"""Zip-based distributions: wheels, eggs, zip sdists and zip dumb binaries.

Every member header is checked and the members must tile the file; core
metadata is read from the archive, bounded, never extracted.
"""

from __future__ import annotations

import configparser
import stat
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import IO

from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from packages_app.naming import normalize_name
from packages_app.upload.archives import rules
from packages_app.upload.archives.rules import invalid

ZIP_COMPRESSION_TYPES = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # an end-of-directory record and nothing before it
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_ZIP_FLAG_ENCRYPTED = 0x01
_ZIP_FLAG_DATA_DESCRIPTOR = 0x08
_ZIP_FLAG_UTF8 = 0x800
# A data descriptor after a member's data: at most signature, CRC and two
# 8-byte zip64 sizes.
_MAX_DATA_DESCRIPTOR = 24


def open_zip(path: Path, filename: str) -> zipfile.ZipFile:
    """Open a zip-based distribution after checking its structure and every member's header."""
    with path.open("rb") as fp:
        head = fp.read(tarfile.BLOCKSIZE)
    if head.startswith(_EMPTY_ZIP_MAGIC):
        raise invalid(f"'{filename}' is an empty zip archive.")
    if not head.startswith(_ZIP_MAGIC):
        raise invalid(f"'{filename}' is not a zip archive.")
    if _is_tar_header(head):
        raise invalid(f"'{filename}' is both a zip and a tar archive.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, NotImplementedError, UnicodeDecodeError, EOFError, struct.error) as exc:
        raise invalid(f"'{filename}' is not a valid zip archive: {exc}") from None
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
    rules.check_member_count(len(infos))
    seen = rules.SeenNames()
    total = 0
    for info in infos:
        name = info.orig_filename  # zipfile silently cuts filename at a NUL; the original keeps it
        is_dir = _is_zip_dir(info)
        seen.add(rules.member_parts(name, is_dir=is_dir), is_dir=is_dir, name=name)
        if info.compress_type not in ZIP_COMPRESSION_TYPES:
            raise invalid(
                f"File does not use a supported compression type: member {name!r} uses method "
                f"{info.compress_type}; only stored and deflated are accepted."
            )
        if info.flag_bits & _ZIP_FLAG_ENCRYPTED:
            raise invalid(f"Archive member {name!r} is encrypted.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise invalid(f"Archive member {name!r} is a symbolic link.")
        total += info.file_size
        rules.check_expanded_size(total, compressed_size)


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
        raise invalid("Archive is empty.")
    if infos[0].header_offset != 0:
        raise invalid("Archive has data before its first member.")
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
        raise invalid("Archive members overlap.")
    if offset - previous_end > slack:
        raise invalid("Archive has data between its members.")


def _local_header_size(fp: IO[bytes], info: zipfile.ZipInfo) -> int:
    fp.seek(info.header_offset)
    header = fp.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or not header.startswith(_ZIP_MAGIC):
        raise invalid(f"Archive member {info.orig_filename!r} has a corrupt local header.")
    *_fields, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    encoding = "utf-8" if info.flag_bits & _ZIP_FLAG_UTF8 else "cp437"
    local_name = fp.read(name_length).decode(encoding, errors="replace")
    if local_name != info.orig_filename:
        raise invalid(f"Archive member {info.orig_filename!r} has a different name in its local header.")
    return _LOCAL_HEADER.size + name_length + extra_length


def _zip_file_names(archive: zipfile.ZipFile) -> set[str]:
    return {info.orig_filename for info in archive.infolist() if not _is_zip_dir(info)}


def _read_zip_member(archive: zipfile.ZipFile, name: str, label: str) -> bytes:
    try:
        with archive.open(name) as stream:
            return rules.read_capped(stream, label)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise invalid(f"{label} could not be read: {exc}") from None


def _zip_top_directory(archive: zipfile.ZipFile, kind: str, filename: str) -> str:
    tops = set()
    for info in archive.infolist():
        parts = rules.member_parts(info.orig_filename, is_dir=_is_zip_dir(info))
        if len(parts) == 1 and not _is_zip_dir(info):
            raise invalid(f"{kind} '{filename}' has a file outside its top-level directory: {info.orig_filename!r}")
        tops.update(parts[:1])
    if len(tops) != 1:
        raise invalid(f"{kind} '{filename}' must contain exactly one top-level directory.")
    return tops.pop()


# --- Wheel -----------------------------------------------------------------


def inspect_wheel(path: Path, filename: str) -> bytes:
    try:
        name, version, _build, _tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise invalid(str(exc)) from None
    raw_name, raw_version = filename.split("-")[:2]
    with open_zip(path, filename) as archive:
        dist_info = _wheel_dist_info(archive, filename, name, version) or f"{raw_name}-{raw_version}.dist-info"
        files = _zip_file_names(archive)
        for required in ("METADATA", "WHEEL", "RECORD"):
            if f"{dist_info}/{required}" not in files:
                raise invalid(
                    f"Wheel '{filename}' does not contain the required {required} file: {dist_info}/{required}"
                )
        metadata = _read_zip_member(archive, f"{dist_info}/METADATA", "METADATA")
        entry_points = f"{dist_info}/entry_points.txt"
        if entry_points in files:
            _check_entry_points(_read_zip_member(archive, entry_points, "entry_points.txt"), filename)
    rules.check_identity(metadata, "METADATA", f"Wheel '{filename}'", str(name), version)
    return metadata


def _wheel_dist_info(archive: zipfile.ZipFile, filename: str, name: str, version: Version) -> str | None:
    """The top-level .dist-info directory, which must belong to the name and version in the filename.

    Its spelling may differ from the filename's (case, '_' vs '-', '1.0' vs
    '1.0.0'), so it is matched by canonical name and version equality.
    """
    found = set()
    for info in archive.infolist():
        parts = rules.member_parts(info.orig_filename, is_dir=_is_zip_dir(info))
        # A directory is either listed itself or implied by a member inside it.
        if parts and parts[0].endswith(".dist-info") and (len(parts) > 1 or _is_zip_dir(info)):
            found.add(parts[0])
    if len(found) > 1:
        raise invalid(f"Wheel '{filename}' contains more than one .dist-info directory: {', '.join(sorted(found))}")
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
        raise invalid(f"Wheel '{filename}' has invalid entry points defined in the entry_points.txt file.") from None


# --- Egg and zip sdist -----------------------------------------------------


def inspect_egg(path: Path, filename: str) -> bytes:
    with open_zip(path, filename) as archive:
        if "EGG-INFO/PKG-INFO" not in _zip_file_names(archive):
            raise invalid(f"Egg '{filename}' does not contain the required PKG-INFO file: EGG-INFO/PKG-INFO")
        pkg_info = _read_zip_member(archive, "EGG-INFO/PKG-INFO", "PKG-INFO")
    rules.metadata_text(pkg_info, "PKG-INFO")
    return pkg_info


def inspect_zip_sdist(path: Path, filename: str) -> bytes:
    # Only legacy imports arrive as .zip; their versions may predate PEP 440,
    # so the filename is not matched against PKG-INFO here.
    with open_zip(path, filename) as archive:
        top = _zip_top_directory(archive, "Sdist", filename)
        if f"{top}/PKG-INFO" not in _zip_file_names(archive):
            raise invalid(f"Sdist '{filename}' does not contain the required PKG-INFO file: {top}/PKG-INFO")
        pkg_info = _read_zip_member(archive, f"{top}/PKG-INFO", "PKG-INFO")
    rules.metadata_text(pkg_info, "PKG-INFO")
    return pkg_info
