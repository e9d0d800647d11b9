"""Tar-based distributions (.tar.gz sdists and dumb binaries), read as one forward stream.

The gzip stream is guarded so it never inflates past the size limits; each
member passes the shared rules and the tar-only ones (types, link targets).
"""

from __future__ import annotations

import gzip
import io
import posixpath
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Generator
from contextlib import closing
from pathlib import Path

from packaging.utils import InvalidSdistFilename, parse_sdist_filename

from packages_app.upload.archives import rules
from packages_app.upload.archives.rules import invalid

_GZIP_MAGIC = b"\x1f\x8b"


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
        if size < 0 or size > rules.MAX_METADATA_SIZE + tarfile.BLOCKSIZE:
            raise invalid(f"Tar archive has a header larger than {rules.size_text(rules.MAX_METADATA_SIZE)}.")
        rules.check_expanded_size(self._stream.tell() + size, self._compressed_size)
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._stream.tell()
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("only absolute and relative seeks are supported")
        rules.check_expanded_size(offset, self._compressed_size)
        return self._stream.seek(offset)

    def tell(self) -> int:
        return self._stream.tell()


# What a broken gzip stream or tar structure raises from inside tarfile.
_TAR_ERRORS = (tarfile.TarError, gzip.BadGzipFile, EOFError, zlib.error, ValueError)


def _check_gzip_file(path: Path, filename: str) -> None:
    with path.open("rb") as fp:
        magic = fp.read(len(_GZIP_MAGIC))
    if magic != _GZIP_MAGIC:
        raise invalid(f"'{filename}' is not a gzip-compressed tar archive.")
    if _opens_as_zip(path):
        raise invalid(f"'{filename}' is both a zip and a tar archive.")


def _open_tar(stream: _GuardedStream, filename: str) -> tarfile.TarFile:
    try:
        # Reading needs only read/seek/tell; the stubs' file protocol also asks for write() and close().
        return tarfile.open(fileobj=stream, mode="r:")  # type: ignore[call-overload]
    except _TAR_ERRORS as exc:
        raise invalid(f"'{filename}' is not a valid gzip-compressed tar archive: {exc}") from None


def _opens_as_zip(path: Path) -> bool:
    # is_zipfile() only looks for an end-of-directory signature, which random
    # compressed bytes contain now and then; reading the directory does not.
    try:
        with zipfile.ZipFile(path):
            return True
    except (zipfile.BadZipFile, NotImplementedError, UnicodeDecodeError, EOFError, struct.error, OSError):
        return False


def iter_tar(path: Path, filename: str) -> Generator[tuple[tarfile.TarFile, tarfile.TarInfo, list[str]], None, None]:
    """Each member of a .tar.gz with its path segments, once it has passed the member rules.

    Members come one at a time, so the caller can read one (PKG-INFO) before
    the stream moves past it; the archive is never rewound.
    """
    _check_gzip_file(path, filename)
    with gzip.open(path, "rb") as stream, _open_tar(_GuardedStream(stream, path.stat().st_size), filename) as archive:
        seen = rules.SeenNames()
        count = 0
        while (member := _next_tar_member(archive, filename)) is not None:
            count += 1
            rules.check_member_count(count)
            parts = rules.member_parts(member.name, is_dir=member.isdir())
            seen.add(parts, is_dir=member.isdir(), name=member.name)
            _check_tar_member_type(member)
            yield archive, member, parts


def _next_tar_member(archive: tarfile.TarFile, filename: str) -> tarfile.TarInfo | None:
    try:
        return archive.next()
    except _TAR_ERRORS as exc:
        raise invalid(f"'{filename}' is not a valid gzip-compressed tar archive: {exc}") from None


def _check_tar_member_type(member: tarfile.TarInfo) -> None:
    if member.issparse():
        raise invalid(f"Archive member {member.name!r} is a sparse file.")
    if member.ischr() or member.isblk() or member.isfifo():
        raise invalid(f"Archive member {member.name!r} is a device or FIFO.")
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        raise invalid(f"Archive member {member.name!r} has an unsupported type {member.type!r}.")
    if member.issym() or member.islnk():
        _link_target_parts(member)


def _link_target_parts(member: tarfile.TarInfo) -> list[str]:
    """Where a link points, as path segments from the archive root; refuses targets outside the archive."""
    target = member.linkname
    if not target or target.startswith("/") or rules.DRIVE_LETTER.match(target) or "\\" in target:
        raise invalid(f"Archive member {member.name!r} links to {target!r}, outside the archive.")
    if rules.CONTROL_CHARS.search(target):
        raise invalid(f"Archive member {member.name!r} links to a name with a control character.")
    # A symlink is relative to its own directory, a hard link to the archive root.
    base = posixpath.dirname(member.name) if member.issym() else ""
    resolved = posixpath.normpath(posixpath.join(base, target))
    if resolved == ".." or resolved.startswith("../"):
        raise invalid(f"Archive member {member.name!r} links to {target!r}, outside the archive.")
    return [part for part in resolved.split("/") if part not in ("", ".")]


def inspect_tar_sdist(path: Path, filename: str) -> bytes:
    try:
        identity = parse_sdist_filename(filename)
    except InvalidSdistFilename:
        # Old sdists (imports only: uploads are held to PEP 625 before this) may carry a
        # non-PEP 440 version; the importer checks their name against PKG-INFO itself.
        identity = None
    top: str | None = None
    pkg_info: bytes | None = None
    # closing() shuts the file as soon as a member is refused, not when the generator is collected.
    with closing(iter_tar(path, filename)) as members:
        for archive, member, parts in members:
            if not parts:
                continue  # "./" itself
            top = top or parts[0]
            _check_sdist_member(member, parts, top, filename)
            if parts == [top, "PKG-INFO"]:
                pkg_info = _read_tar_pkg_info(archive, member, filename)
    if top is None:
        raise invalid(f"Sdist '{filename}' is empty.")
    if pkg_info is None:
        raise invalid(f"Sdist '{filename}' does not contain the required PKG-INFO file: {top}/PKG-INFO")
    if identity is not None:
        rules.check_identity(pkg_info, "PKG-INFO", f"Sdist '{filename}'", str(identity[0]), identity[1])
    return pkg_info


def _check_sdist_member(member: tarfile.TarInfo, parts: list[str], top: str, filename: str) -> None:
    if parts[0] != top:
        raise invalid(f"Sdist '{filename}' must contain exactly one top-level directory, not '{top}' and '{parts[0]}'.")
    if len(parts) == 1 and not member.isdir():
        raise invalid(f"Sdist '{filename}' has a file outside its top-level directory: {member.name!r}")
    if (member.issym() or member.islnk()) and _link_target_parts(member)[:1] != [top]:
        raise invalid(f"Archive member {member.name!r} links to {member.linkname!r}, outside '{top}'.")


def _read_tar_pkg_info(archive: tarfile.TarFile, member: tarfile.TarInfo, filename: str) -> bytes:
    if not member.isreg():
        raise invalid(f"Sdist '{filename}' has a PKG-INFO that is not a regular file.")
    if member.size > rules.MAX_METADATA_SIZE:
        raise invalid(f"PKG-INFO is larger than {rules.size_text(rules.MAX_METADATA_SIZE)}.")
    # The generator yields before the stream moves on, so this reads forward only.
    stream = archive.extractfile(member)
    assert stream is not None  # a regular member always has a stream
    try:
        with stream:
            return rules.read_capped(stream, "PKG-INFO")
    except _TAR_ERRORS as exc:
        raise invalid(f"PKG-INFO could not be read: {exc}") from None
