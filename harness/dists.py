"""Small, valid Python distributions written straight to disk, for tests and benchmarks.

No build backend and no network: the archives are assembled with zipfile and
tarfile. Names are normalised here with a local regex rather than the index's
own ``packages_app.naming`` so that a bug there cannot hide in the fixtures.

Archives are reproducible (fixed timestamps, owners and modes): building the
same distribution twice gives the same bytes and so the same sha256, which
tests of duplicate uploads rely on.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import itertools
import json
import re
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# 1980-01-01 is the earliest date a zip entry can hold.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_TAR_MTIME = 315532800  # the same moment, for tar entries
_GENERATOR = "pyidx-tests"


def normalized_name(name: str) -> str:
    """PEP 503 form: runs of ``-_.`` become one ``-``, lower-cased."""
    return re.sub(r"[-_.]+", "-", name).lower()


def filename_part(name: str) -> str:
    """The distribution part of wheel and PEP 625 sdist filenames (and the import name)."""
    return normalized_name(name).replace("-", "_")


@dataclass(frozen=True)
class Metadata:
    """The core metadata of a test distribution; both builders take these fields as keyword arguments."""

    name: str
    version: str
    requires_python: str | None = None
    requires_dist: Sequence[str] = ()
    summary: str = "A test package"
    metadata_version: str = "2.1"
    extra_metadata: Sequence[tuple[str, str]] = ()

    def text(self) -> str:
        """As METADATA / PKG-INFO: an email-style header block."""
        fields = [
            ("Metadata-Version", self.metadata_version),
            ("Name", self.name),
            ("Version", self.version),
            ("Summary", self.summary),
        ]
        if self.requires_python is not None:
            fields.append(("Requires-Python", self.requires_python))
        fields += [("Requires-Dist", requirement) for requirement in self.requires_dist]
        fields += list(self.extra_metadata)
        for field, value in fields:
            # A newline in a value would silently start a new header (or the body).
            if "\n" in value or "\r" in value:
                raise ValueError(f"metadata field {field!r} must be a single line")
        return "".join(f"{field}: {value}\n" for field, value in fields)


def record_hash(data: bytes) -> str:
    """A RECORD hash: urlsafe base64 sha256 without padding (PEP 376/427)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode('ascii')}"


def wheel_tags(tag: str) -> list[str]:
    """Expand a compressed tag set (``py2.py3-none-any``) into one tag per line of WHEEL."""
    python, abi, platform = tag.split("-")
    combos = itertools.product(python.split("."), abi.split("."), platform.split("."))
    return ["-".join(combo) for combo in combos]


def _wheel_file(tag: str, generator: str) -> str:
    lines = ["Wheel-Version: 1.0", f"Generator: {generator}", "Root-Is-Purelib: true"]
    lines += [f"Tag: {one}" for one in wheel_tags(tag)]
    return "\n".join(lines) + "\n"


def _record(files: dict[str, bytes], record_path: str) -> bytes:
    lines = [f"{path},{record_hash(data)},{len(data)}" for path, data in files.items()]
    lines.append(f"{record_path},,")
    return ("\n".join(lines) + "\n").encode()


def _module(version: str, module_body: str) -> bytes:
    return (module_body or f'__version__ = "{version}"\n').encode()


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    module_body: str = "",
    filename_name: str | None = None,
    **metadata_fields: Any,
) -> Path:
    """Write a pure-Python wheel into ``directory`` and return its path.

    ``metadata_fields`` are the other fields of ``Metadata``. ``filename_name`` replaces only
    the distribution part of the filename, so tests can make a file whose name disagrees with
    its metadata.
    """
    dist = filename_part(name)
    metadata = Metadata(name, version, **metadata_fields).text()
    file_dist = dist if filename_name is None else filename_name
    path = Path(directory) / f"{file_dist}-{version}-{tag}.whl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wheel_bytes(dist, version, metadata.encode(), tag=tag, module_body=module_body))
    return path


def wheel_bytes(
    dist: str,
    version: str,
    metadata: bytes,
    *,
    tag: str = "py3-none-any",
    module_body: str = "",
    generator: str = _GENERATOR,
) -> bytes:
    """A pure-Python wheel's bytes: the module ``dist``, then METADATA, WHEEL and RECORD in ``dist``'s .dist-info."""
    dist_info = f"{dist}-{version}.dist-info"
    files = {
        f"{dist}/__init__.py": _module(version, module_body),
        f"{dist_info}/METADATA": metadata,
        f"{dist_info}/WHEEL": _wheel_file(tag, generator).encode(),
    }
    record_path = f"{dist_info}/RECORD"
    files[record_path] = _record(files, record_path)
    return zip_bytes(files)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A deflated zip of ``members``, in order, with pinned dates and modes: the same members, the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string; requirement markers contain double quotes.
    return json.dumps(value)


def _pyproject(metadata: Metadata) -> str:
    lines = [
        "[build-system]",
        'requires = ["setuptools>=61"]',
        'build-backend = "setuptools.build_meta"',
        "",
        "[project]",
        f"name = {_toml_string(metadata.name)}",
        f"version = {_toml_string(metadata.version)}",
        f"description = {_toml_string(metadata.summary)}",
    ]
    if metadata.requires_python is not None:
        lines.append(f"requires-python = {_toml_string(metadata.requires_python)}")
    dependencies = ", ".join(_toml_string(requirement) for requirement in metadata.requires_dist)
    lines.append(f"dependencies = [{dependencies}]")
    return "\n".join(lines) + "\n"


def _tar_info(member: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(member)
    info.type, info.mode, info.size = kind, mode, size
    info.mtime = _TAR_MTIME
    info.uname = info.gname = "root"
    return info


def build_sdist(directory: Path, name: str, version: str, **metadata_fields: Any) -> Path:
    """Write a PEP 625 sdist (``name-version.tar.gz`` with one top directory) and return its path.

    ``metadata_fields`` are the other fields of ``Metadata``; pyproject.toml repeats those it has a key for.
    """
    dist = filename_part(name)
    metadata = Metadata(name, version, **metadata_fields)
    path = Path(directory) / f"{dist}-{version}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    pyproject = _pyproject(metadata).encode()
    path.write_bytes(sdist_bytes(dist, version, metadata.text().encode(), pyproject=pyproject))
    return path


def sdist_bytes(dist: str, version: str, pkg_info: bytes, *, pyproject: bytes | None = None) -> bytes:
    """A PEP 625 sdist's bytes: one top directory ``dist-version`` with PKG-INFO, pyproject.toml if given,
    and the module ``dist``."""
    top = f"{dist}-{version}"
    files = {f"{top}/PKG-INFO": pkg_info}
    if pyproject is not None:
        files[f"{top}/pyproject.toml"] = pyproject
    files[f"{top}/{dist}/__init__.py"] = _module(version, "")
    # Directory entries are optional, but setuptools writes them and some readers expect them.
    return tar_gz_bytes((top, f"{top}/{dist}"), files)


def tar_gz_bytes(directories: Sequence[str], members: dict[str, bytes]) -> bytes:
    """A gzipped PAX tar of ``directories`` then ``members``, with pinned times, owners and modes."""
    buffer = io.BytesIO()
    # gzip's header holds a timestamp and a filename; pin both for reproducible bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for directory in directories:
                archive.addfile(_tar_info(directory, tarfile.DIRTYPE, 0o755))
            for member, data in members.items():
                archive.addfile(_tar_info(member, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
    return buffer.getvalue()


# Files an installer adds to a .dist-info: they were never in the wheel.
_INSTALLER_FILES = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}


def wheel_of_installed(dist_name: str, directory: Path) -> Path:
    """Rebuild the wheel of an installed pure-Python distribution into ``directory``; return its path.

    Offline: the files are those its RECORD lists (less the installer's own and bytecode),
    read back from site-packages, with a new RECORD. Installs the same as the original wheel,
    though its bytes (so its sha256) differ.
    """
    from importlib import metadata

    dist = metadata.distribution(dist_name)
    wheel_info = dist.read_text("WHEEL") or ""
    if "Root-Is-Purelib: true" not in wheel_info:
        raise ValueError(f"{dist_name} is not a pure-Python distribution")
    tags = [line.split(":", 1)[1].strip() for line in wheel_info.splitlines() if line.startswith("Tag:")]
    pythons = sorted({tag.split("-")[0] for tag in tags})
    rests = {tag.split("-", 1)[1] for tag in tags}
    if len(rests) != 1:
        raise ValueError(f"{dist_name}: tags {tags} do not compress to one")
    tag = f"{'.'.join(pythons)}-{rests.pop()}"
    dist_info = f"{filename_part(dist.metadata['Name'])}-{dist.version}.dist-info"
    files: dict[str, bytes] = {}
    for entry in dist.files or ():
        member = entry.as_posix()
        parts = entry.parts
        if parts[0] == ".." or "__pycache__" in parts or member.endswith(".pyc"):
            continue  # scripts outside site-packages, bytecode
        if parts[0].endswith(".dist-info"):
            if parts[-1] in _INSTALLER_FILES:
                continue
            member = "/".join((dist_info, *parts[1:]))
        files[member] = Path(entry.locate()).read_bytes()
    record_path = f"{dist_info}/RECORD"
    files[record_path] = _record(files, record_path)
    path = Path(directory) / f"{filename_part(dist.metadata['Name'])}-{dist.version}-{tag}.whl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zip_bytes(files))
    return path
