"""The one place for project-name and version normalisation.

Names follow the name-normalisation spec (PEP 503): runs of ``-``, ``_`` and
``.`` become one ``-`` and everything is lower-cased, so ``Foo_Bar.baz`` and
``foo-bar-baz`` are one project. Versions are compared in canonical form
(``packaging.utils.canonicalize_version``), so ``1.0`` and ``1.0.0`` are one
release, as on PyPI.
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name, canonicalize_version
from packaging.version import InvalidVersion, Version

# Core metadata spec: ASCII letters, digits, '.', '_', '-', starting and
# ending with a letter or digit.
_VALID_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])\Z", re.IGNORECASE)


def is_valid_project_name(name: str) -> bool:
    return bool(_VALID_NAME.match(name))


def normalize_name(name: str) -> str:
    """PEP 503 normalised form of a project name."""
    return canonicalize_name(name)


def wheel_name_part(name: str) -> str:
    """The distribution part of a wheel or PEP 625 sdist filename."""
    return normalize_name(name).replace("-", "_")


def canonical_version(version: str) -> str:
    """Canonical form used to decide whether two version strings are one release.

    Legacy (non-PEP 440) strings have no canonical form; they are compared as
    written, lower-cased and stripped.
    """
    try:
        Version(version)
    except InvalidVersion:
        return version.strip().lower()
    return canonicalize_version(version)
