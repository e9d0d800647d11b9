"""Where distribution files live: paths derived from the content hash.

The path of a file is ``ab/cd/<rest of blake2b-256>/<filename>``, as on PyPI,
and its PEP 658 core metadata sits beside it with ``.metadata`` appended.
Identical bytes under the same name always get the same path, which is what
lets a racing identical upload be a harmless no-op.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import IO

from django.core.files.storage import FileSystemStorage, storages


def distribution_path(blake2_256_hex: str, filename: str) -> str:
    b2 = blake2_256_hex
    return f"{b2[:2]}/{b2[2:4]}/{b2[4:]}/{filename}"


# PEP 658: a distribution's core metadata is served at its URL + this suffix.
METADATA_SUFFIX = ".metadata"


def metadata_path(path: str) -> str:
    return path + METADATA_SUFFIX


def package_storage():
    return storages["packages"]


class AtomicFileSystemStorage(FileSystemStorage):
    """Local storage that never exposes a half-written file.

    Bytes go to a temporary file in the target folder and are renamed into
    place, so a reader (or a crash) sees either the whole file or none, and
    two writers of the same content-addressed path cannot interleave.
    """

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name  # content-addressed: the same name means the same bytes

    def _save(self, name: str, content: IO[bytes]) -> str:
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        fd, temp_path = tempfile.mkstemp(dir=directory, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                if hasattr(content, "seek"):
                    content.seek(0)
                chunks = content.chunks() if hasattr(content, "chunks") else iter(lambda: content.read(1 << 20), b"")
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp_path, 0o644)
            os.replace(temp_path, full_path)
        except BaseException:
            if os.path.exists(temp_path):
                os.unlink(temp_path)
            raise
        return name


def stored_paths(storage=None) -> Iterator[str]:
    """Every file name in the package storage, local or S3, in no particular order.

    Temporary files of an unfinished local write (``.incoming-*``) are not listed.
    """
    storage = storage or package_storage()
    folders = [""]
    while folders:
        folder = folders.pop()
        try:
            subfolders, names = storage.listdir(folder)
        except FileNotFoundError:
            continue
        prefix = f"{folder}/" if folder else ""
        folders.extend(prefix + sub for sub in subfolders)
        yield from (prefix + name for name in names if not name.startswith(".incoming-"))
