"""Archive sanity checks for an uploaded distribution file.

The upload is already on disk; this stage opens it as the archive its
filename claims, rejects anything hostile or malformed, and hands back the
core metadata (the wheel's METADATA for PEP 658, the sdist's or egg's
PKG-INFO). Nothing is ever extracted: members are read with ``zipfile`` and
``tarfile`` straight from the file, and every read is bounded.

rules.py holds what every archive is held to (the limits among it), zips.py
the zip-based types, tars.py the .tar.gz ones.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from packages_app.models import PackageType
from packages_app.upload.archives.rules import (
    COMPRESSION_RATIO_THRESHOLD,
    MAX_COMPRESSION_RATIO,
    MAX_MEMBERS,
    MAX_METADATA_SIZE,
    MAX_UNCOMPRESSED_SIZE,
    MiB,
    invalid,
)
from packages_app.upload.archives.tars import inspect_tar_sdist, iter_tar
from packages_app.upload.archives.zips import (
    ZIP_COMPRESSION_TYPES,
    inspect_egg,
    inspect_wheel,
    inspect_zip_sdist,
    open_zip,
)

__all__ = [
    "COMPRESSION_RATIO_THRESHOLD",
    "MAX_COMPRESSION_RATIO",
    "MAX_MEMBERS",
    "MAX_METADATA_SIZE",
    "MAX_UNCOMPRESSED_SIZE",
    "UNINSPECTED_PACKAGETYPES",
    "ZIP_COMPRESSION_TYPES",
    "MiB",
    "inspect_distribution",
]

# Legacy binary formats that are stored as they are, without a look inside.
UNINSPECTED_PACKAGETYPES = frozenset({"bdist_wininst", "bdist_msi", "bdist_rpm", "bdist_dmg"})


def inspect_distribution(path: Path, filename: str, packagetype: str) -> bytes | None:
    """Check the archive; return the wheel's METADATA bytes (for PEP 658), the sdist's PKG-INFO bytes,
    an egg's EGG-INFO/PKG-INFO bytes, or None for legacy binary types that are not inspected."""
    if packagetype in UNINSPECTED_PACKAGETYPES:
        return None
    if packagetype == PackageType.BDIST_WHEEL and filename.endswith(".whl"):
        return inspect_wheel(path, filename)
    if packagetype == PackageType.SDIST and filename.endswith(".tar.gz"):
        return inspect_tar_sdist(path, filename)
    if packagetype == PackageType.SDIST and filename.endswith(".zip"):
        return inspect_zip_sdist(path, filename)
    if packagetype == "bdist_egg" and filename.endswith(".egg"):
        return inspect_egg(path, filename)
    if packagetype == "bdist_dumb" and filename.endswith(".zip"):
        open_zip(path, filename).close()
        return None
    if packagetype == "bdist_dumb" and filename.endswith(".tar.gz"):
        with closing(iter_tar(path, filename)) as members:
            for _member in members:
                pass  # the member rules run as each member is read
        return None
    raise invalid(f"'{filename}' is not a valid filename for package type '{packagetype}'.")
