"""Bring an existing folder of distributions into the index (``import_dists``).

The files go through the same archive checks, storage and write path as an
upload; only what history allows is wider: old file types (eggs, ``.zip``
sdists, Windows installers, ...) and versions that are not PEP 440. The
metadata comes from the archive itself, since there is no upload form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from packaging.metadata import parse_email

from packages_app import hashing, naming
from packages_app.models import PackageType
from packages_app.upload import archives, filenames, metadata, pipeline
from packages_app.upload.errors import UploadError, bad_request

# Extension -> package type. Longest first, so ".tar.gz" wins over ".gz".
PACKAGE_TYPES = (
    (".whl", PackageType.BDIST_WHEEL),
    (".tar.gz", PackageType.SDIST),
    (".tar.bz2", PackageType.SDIST),
    (".tgz", PackageType.SDIST),
    (".zip", PackageType.SDIST),
    (".egg", PackageType.BDIST_EGG),
    (".exe", PackageType.BDIST_WININST),
    (".msi", PackageType.BDIST_MSI),
    (".rpm", PackageType.BDIST_RPM),
    (".dmg", PackageType.BDIST_DMG),
)
# name-version.platform.ext, for installers that carry no readable metadata.
_INSTALLER_NAME = re.compile(
    r"^(?P<name>.+?)-(?P<version>\d[^-]*?)"
    r"(?:[.-](?:win32|win-amd64|macosx.*|linux.*|noarch|src|py\d.*))*"
    r"\.(exe|msi|rpm|dmg)\Z",
    re.IGNORECASE,
)
_EGG_NAME = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)-py(?P<py>\d+\.\d+)")


@dataclass(frozen=True)
class ImportResult:
    path: Path
    status: str  # "imported", "restored" (there, its stored bytes were not), "skipped" (there) or "rejected"
    reason: str = ""


def package_type(filename: str) -> str | None:
    lowered = filename.lower()
    for extension, packagetype in PACKAGE_TYPES:
        if lowered.endswith(extension):
            return packagetype
    return None


def find_distributions(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.name.startswith(".") and package_type(path.name):
            yield path


def _python_version(path: Path, packagetype: str) -> str:
    if packagetype == PackageType.SDIST:
        return "source"
    if packagetype == PackageType.BDIST_WHEEL:
        return path.name[:-4].split("-")[-3]
    egg = _EGG_NAME.match(path.name)
    return f"{egg.group('py')}" if egg else "any"


def _metadata_from_archive(core_metadata: bytes) -> metadata.ValidatedMetadata:
    raw, _unparsed = parse_email(core_metadata)
    if not raw.get("name") or not raw.get("version"):
        raise bad_request("The archive's metadata has no Name or Version.")
    return metadata.ValidatedMetadata(
        name=raw["name"], version=raw["version"], release_fields=metadata.release_fields(raw)
    )


def _metadata_from_installer_name(filename: str) -> metadata.ValidatedMetadata:
    match = _INSTALLER_NAME.match(filename)
    if match is None:
        raise bad_request(f"Cannot tell the project name and version from '{filename}'.")
    return metadata.ValidatedMetadata(name=match["name"], version=match["version"], release_fields={})


def _check_name_agrees(filename: str, packagetype: str, validated: metadata.ValidatedMetadata) -> None:
    if packagetype == PackageType.BDIST_WHEEL:
        filenames.check_matches_metadata(filename, packagetype, validated.name, validated.version)
        return
    # Old sdists and eggs: "<name>-<version>..." with the name spelled as its author liked.
    prefix = naming.normalize_name(filename.split(f"-{validated.version}", 1)[0])
    if prefix != naming.normalize_name(validated.name):
        raise bad_request(f"The filename '{filename}' does not start with the project name '{validated.name}'.")


def import_file(path: Path, *, owner=None, importer=None, upload_time_from_mtime: bool = False) -> ImportResult:
    packagetype = package_type(path.name)
    try:
        filenames.check_safe(path.name)
        if packagetype is None:  # find_distributions() yields only known extensions
            raise bad_request(f"Cannot tell the package type of '{path.name}' from its extension.")
        core_metadata = archives.inspect_distribution(path, path.name, packagetype)
        if core_metadata is not None:
            validated = _metadata_from_archive(core_metadata)
        else:
            validated = _metadata_from_installer_name(path.name)
        if not naming.is_valid_project_name(validated.name):
            raise bad_request(f"'{validated.name}' is not a valid project name.")
        _check_name_agrees(path.name, packagetype, validated)
        digests = hashing.of_file(path)
        upload_time = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC) if upload_time_from_mtime else None
        outcome = pipeline.publish(
            pipeline.Publication(
                metadata=validated,
                dist=pipeline.Distribution(
                    path=path,
                    filename=path.name,
                    packagetype=packagetype,
                    python_version=_python_version(path, packagetype),
                    size=digests.size,
                    md5=digests.md5,
                    sha256=digests.sha256,
                    blake2_256=digests.blake2_256,
                ),
                identity=None,
                importer=importer,
                owner=owner,
                user_agent="import_dists",
                upload_time=upload_time,
            )
        )
    except UploadError as error:
        return ImportResult(path, "rejected", error.message)
    if outcome.created:
        return ImportResult(path, "imported")
    return ImportResult(path, "restored" if outcome.restored else "skipped")
