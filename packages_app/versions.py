"""The one place for version ordering.

``sort_key`` turns any version string into a string of digits whose plain
string order is the PEP 440 order, with legacy (non-PEP 440) versions before
every PEP 440 one, ordered as ``packaging_legacy`` orders them. Storing it on
the release lets the database find "newest first" without loading every
release. Only digits are used so that the order is the same under any
database collation.

Integers are written length-prefixed (two digits of length, then the digits),
which makes their string order their numeric order. Every optional part
starts with a marker digit chosen so that "absent" sorts where PEP 440 puts it.
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version
from packaging_legacy.version import LegacyVersion

from packages_app import naming

_PRE_LETTER = {"a": "1", "b": "2", "rc": "3"}


def _int(n: int) -> str:
    digits = str(n)
    if len(digits) > 99:
        raise ValueError("version component too long to order")
    return f"{len(digits):02d}{digits}"


def _text(text: str) -> str:
    # Three digits per character, then "000" as the end mark so that a
    # prefix sorts before its extensions.
    return "".join(f"{min(ord(ch), 999):03d}" for ch in text) + "000"


def parse(version: str) -> Version | None:
    """The PEP 440 Version, or None for a legacy version string."""
    try:
        return Version(version)
    except InvalidVersion:
        return None


def is_prerelease(version: str) -> bool:
    parsed = parse(version)
    return bool(parsed and parsed.is_prerelease)


def _pep440_key(v: Version) -> str:
    release = list(v.release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    parts = ["1", _int(v.epoch)]
    parts += ["1" + _int(n) for n in release]
    parts.append("0")
    # A dev release without pre/post sorts before any pre-release of it.
    if v.pre is None and v.post is None and v.dev is not None:
        parts.append("0")
    elif v.pre is None:
        parts.append("4")
    else:
        parts.append(_PRE_LETTER[v.pre[0]] + _int(v.pre[1]))
    parts.append("0" if v.post is None else "1" + _int(v.post))
    parts.append("1" if v.dev is None else "0" + _int(v.dev))
    if v.local is None:
        parts.append("0")
    else:
        parts.append("1")
        for segment in v.local.split("."):
            # PEP 440: alphanumeric segments sort before numeric ones.
            parts.append("2" + _int(int(segment)) if segment.isdigit() else "1" + _text(segment))
        parts.append("0")
    return "".join(parts)


def _legacy_key(version: str) -> str:
    _epoch, legacy_parts = LegacyVersion(version)._key
    return "0" + "".join("1" + _text(part) for part in legacy_parts) + "0"


def sort_key(version: str) -> str:
    parsed = parse(version)
    return _pep440_key(parsed) if parsed is not None else _legacy_key(version)


def release_columns(version: str) -> dict[str, str | bool]:
    """The release columns derived from its version string, for ``Release(**release_columns(v))``."""
    return {
        "canonical_version": naming.canonical_version(version),
        "sort_key": sort_key(version),
        "is_prerelease": is_prerelease(version),
    }
