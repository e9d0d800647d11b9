"""The package storage on S3 (``FILE_STORAGE=s3``, ``indexsite/storages.py``).

A module of its own so that only an index that stores its files on S3 imports
django-storages' S3 backend, and with it boto3 and botocore: 26-38 MiB in each gunicorn
worker (docs/benchmarks.md, "Memory after changes"). ``tests/unit/test_lean_imports.py``
checks that the default configuration does not load them.
"""

from __future__ import annotations

from storages.backends.s3 import S3Storage

from packages_app.storage import IMMUTABLE, content_type_for


class PackageS3Storage(S3Storage):
    """S3 storage that labels each object as the index serves it.

    Left to guess from the name, a ``.tar.gz`` would be stored with
    ``Content-Encoding: gzip``, and a client following a download redirect would
    unpack the sdist on the way and get the wrong sha256. Objects never change
    (content-addressed paths), so the store may let them be cached for a year.
    """

    def get_object_parameters(self, name: str) -> dict:
        return {
            **super().get_object_parameters(name),
            "ContentType": content_type_for(name),
            "CacheControl": IMMUTABLE,
        }
