"""Where distribution files live: paths derived from the content hash.

The path of a file is ``ab/cd/<rest of blake2b-256>/<filename>``, as on PyPI,
and its PEP 658 core metadata sits beside it with ``.metadata`` appended.
Identical bytes under the same name always get the same path, which is what
lets a racing identical upload be a harmless no-op.

The S3 backend is in ``packages_app/s3_storage.py``: importing it loads boto3 and botocore
(26-38 MiB in each worker), which an index on local files (the default) never needs.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from typing import IO

from django.core.files.storage import FileSystemStorage, storages


def distribution_path(blake2_256_hex: str, filename: str) -> str:
    b2 = blake2_256_hex
    return f"{b2[:2]}/{b2[2:4]}/{b2[4:]}/{filename}"


# A file's URL never changes its bytes (content-addressed paths): cacheable for a year.
IMMUTABLE = f"max-age={365 * 24 * 3600}, public, immutable"
# The same, for a file only some may read: the client keeps it, no shared cache does.
PRIVATE_IMMUTABLE = f"max-age={365 * 24 * 3600}, private, immutable"

# PEP 658: a distribution's core metadata is served at its URL + this suffix.
METADATA_SUFFIX = ".metadata"


def metadata_path(path: str) -> str:
    return path + METADATA_SUFFIX


# By filename ending, longest first. A .tar.gz is served as the gzip file it
# is, never with Content-Encoding: gzip (a client would unpack it).
_CONTENT_TYPES = (
    (".metadata", "text/plain; charset=utf-8"),
    (".tar.gz", "application/gzip"),
    (".tar.bz2", "application/x-bzip2"),
    (".tar.xz", "application/x-xz"),
    (".tgz", "application/gzip"),
    (".whl", "application/zip"),
    (".zip", "application/zip"),
    (".egg", "application/zip"),
)


def content_type_for(name: str) -> str:
    for suffix, content_type in _CONTENT_TYPES:
        if name.endswith(suffix):
            return content_type
    return "application/octet-stream"


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


def object_size(storage, name: str) -> int:
    """Size of a stored object; FileNotFoundError when it is not there (local or S3)."""
    try:
        return storage.size(name)
    except Exception as error:
        if _is_missing_object(error):
            raise FileNotFoundError(name) from error
        raise


def object_chunks(storage, name: str, first: int | None = None, last: int | None = None) -> Iterator[bytes]:
    """The bytes of an object in S3 storage (or bytes ``first``..``last``), as they arrive.

    Asks the store for just the range, so a client's range request over a big wheel
    does not pull the whole file through the app. Raises FileNotFoundError at once
    (not when iterated) for a missing object.
    """
    extra = {"Range": f"bytes={first}-{last}"} if first is not None else {}
    try:
        # No key prefix (location) is configured: the object key is the name.
        body = storage.bucket.Object(name).get(**extra)["Body"]
    except Exception as error:
        if _is_missing_object(error):
            raise FileNotFoundError(name) from error
        raise
    return _closing_chunks(body)


def _closing_chunks(body) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(64 * 1024)
    finally:
        body.close()


def _is_missing_object(error: Exception) -> bool:
    # Only an S3 store raises botocore's errors, and only once it has loaded botocore: an error
    # of local storage does not load it here.
    if "botocore.exceptions" not in sys.modules:
        return False
    from botocore.exceptions import ClientError

    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey"}
