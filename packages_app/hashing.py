"""The one place that computes a distribution's digests.

PyPI records md5 (older clients still send it), sha256 (what installers
check) and blake2b-256 (what storage paths are made from).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Digests:
    size: int
    md5: str
    sha256: str
    blake2_256: str


class DigestWriter:
    """Feeds chunks to all three hashes as they arrive."""

    def __init__(self) -> None:
        self.size = 0
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self._blake2_256 = hashlib.blake2b(digest_size=32)

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._md5.update(chunk)
        self._sha256.update(chunk)
        self._blake2_256.update(chunk)

    def digests(self) -> Digests:
        return Digests(self.size, self._md5.hexdigest(), self._sha256.hexdigest(), self._blake2_256.hexdigest())


def of_bytes(data: bytes) -> Digests:
    writer = DigestWriter()
    writer.update(data)
    return writer.digests()


def of_file(path: Path, chunk_size: int = 1 << 20) -> Digests:
    writer = DigestWriter()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            writer.update(chunk)
    return writer.digests()
