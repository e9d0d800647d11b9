"""Hostile archives, built in memory: sound ones first, then each way to break them.

Kept apart from ``harness.dists`` (which writes valid distributions to disk)
because these must be able to say things no builder would: a member named
``../x``, a size the data does not have, a device node.
"""

from __future__ import annotations

import gzip
import io
import stat
import struct
import tarfile
import warnings
import zipfile
from functools import lru_cache

MiB = 1024 * 1024
NAME, VERSION = "demo", "1.0"
WHEEL = "demo-1.0-py3-none-any.whl"
SDIST = "demo-1.0.tar.gz"


def metadata(name: str = NAME, version: str = VERSION) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: A demo\n".encode()


# --- zip ---------------------------------------------------------------------


def zip_bytes(members, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """members: (name or ZipInfo, data) pairs, written in order.

    Names get a fixed date, so the same members make the same bytes (and digests) every time.
    """
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are written on purpose
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in members:
                if isinstance(name, str):
                    name = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    name.compress_type = compression
                    name.external_attr = 0o644 << 16
                archive.writestr(name, data)
    return buffer.getvalue()


def wheel_members(*, dist_info="demo-1.0.dist-info", meta=None, drop=(), extra=()):
    files = {
        "demo/__init__.py": b"VALUE = 1\n",
        f"{dist_info}/METADATA": metadata() if meta is None else meta,
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: hostile\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist_info}/RECORD": b"",
    }
    kept = [(name, data) for name, data in files.items() if name.rsplit("/", 1)[-1] not in drop]
    return kept + list(extra)


def wheel(compression=zipfile.ZIP_DEFLATED, **kwargs) -> bytes:
    return zip_bytes(wheel_members(**kwargs), compression)


def central_entries(data: bytes) -> list[int]:
    """Offsets of each central directory entry, in directory order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        offset, count = archive.start_dir, len(archive.infolist())
    entries = []
    for _ in range(count):
        entries.append(offset)
        name_length, extra_length, comment_length = struct.unpack_from("<3H", data, offset + 28)
        offset += 46 + name_length + extra_length + comment_length
    return entries


def patch_central(data: bytes, index: int, field_offset: int, fmt: str, value: int) -> bytes:
    """Rewrite one field of the index-th central directory entry."""
    patched = bytearray(data)
    struct.pack_into(fmt, patched, central_entries(data)[index] + field_offset, value)
    return bytes(patched)


def overlapping_wheel() -> bytes:
    """The classic overlapping-member zip bomb: two entries share one member's bytes."""
    data = wheel(zipfile.ZIP_STORED)
    return patch_central(data, 1, 42, "<L", 0)


def wheel_declaring_huge_sizes() -> bytes:
    """Members that claim almost 4 GiB each when uncompressed: over the absolute limit together."""
    data = wheel(zipfile.ZIP_STORED, extra=[("demo/a.bin", b"a"), ("demo/b.bin", b"b")])
    for index in (4, 5):
        data = patch_central(data, index, 24, "<L", 0xFFFF_FFF0)
    return data


def zip_symlink_wheel() -> bytes:
    info = zipfile.ZipInfo("demo/link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return zip_bytes([*wheel_members(), (info, b"/etc/passwd")])


def zip_member_with_nul() -> bytes:
    return wheel(extra=[("demo/aXb.py", b"")]).replace(b"demo/aXb.py", b"demo/a\x00b.py")


def encrypted_wheel() -> bytes:
    return patch_central(wheel(), 0, 8, "<H", 1)


@lru_cache(maxsize=1)
def wheel_with_too_many_members() -> bytes:
    """One member more than the index allows (100,000), each empty: about 9 MB, built once."""
    from packages_app.upload.archives import rules

    extra = [(zipfile.ZipInfo(f"demo/m{index}"), b"") for index in range(rules.MAX_MEMBERS + 1)]
    return wheel(zipfile.ZIP_STORED, extra=extra)


@lru_cache(maxsize=1)
def wheel_bomb() -> bytes:
    """70 MiB of zeros deflated to about 70 KB: past the 64 MiB threshold and 50 times its size."""
    return wheel(extra=[("demo/zeros.bin", bytes(70 * MiB))])


@lru_cache(maxsize=1)
def wheel_with_huge_metadata() -> bytes:
    """METADATA of 17 MiB, over the 16 MiB the index reads into memory (it compresses to little)."""
    return wheel(meta=metadata() + b"Description: " + b"x" * (17 * MiB) + b"\n")


# --- tar.gz --------------------------------------------------------------------


def tar_file(name, data=b"", **attributes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attributes.items():
        setattr(info, key, value)
    return info, data


def tar_dir(name):
    return tar_file(name, type=tarfile.DIRTYPE, mode=0o755)


def tar_link(name, target, kind=tarfile.SYMTYPE):
    return tar_file(name, type=kind, linkname=target)


def tar_gz_bytes(members, tar_format=tarfile.PAX_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tar_format) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def sdist_members(*, top="demo-1.0", pkg_info=None, extra=()):
    return [
        tar_dir(top),
        tar_file(f"{top}/PKG-INFO", metadata() if pkg_info is None else pkg_info),
        tar_file(f"{top}/pyproject.toml", b"[project]\nname = 'demo'\n"),
        *extra,
    ]


def sdist(tar_format=tarfile.PAX_FORMAT, **kwargs) -> bytes:
    return tar_gz_bytes(sdist_members(**kwargs), tar_format)


@lru_cache(maxsize=1)
def sdist_bomb() -> bytes:
    """100 MiB of zeros in a tar.gz of about 100 KB."""
    return sdist(extra=[tar_file("demo-1.0/zeros.bin", bytes(100 * MiB))])


def sdist_declaring_huge_member() -> bytes:
    """A member header that claims 5 GiB; the archive ends right after it."""
    info = tarfile.TarInfo("demo-1.0/huge.bin")
    info.size = 5 * 1024**3
    header = info.tobuf(tarfile.PAX_FORMAT)
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member, data in sdist_members():
            archive.addfile(member, io.BytesIO(data) if data else None)
    # The sound members, then the lying header and a little data, without the end-of-archive blocks.
    body = plain.getvalue().rstrip(b"\0")
    body += bytes(-len(body) % tarfile.BLOCKSIZE)
    return gzip.compress(body + header + b"x" * 1024, mtime=0)


def sdist_with_huge_pkg_info() -> bytes:
    return sdist(pkg_info=metadata() + b"Description: " + b"x" * (17 * MiB) + b"\n")


def sdist_with_huge_pax_header() -> bytes:
    return sdist(extra=[tar_file("demo-1.0/README", pax_headers={"comment": "x" * (17 * MiB)})])


def truncated(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]
