"""Receive the uploaded file: stream it to a temporary file, hashing on the way.

Django's multipart parser hands each file part to this handler in chunks, so
memory stays bounded whatever the file size. A part over its size limit is
read to the end but not kept, so that the client still receives the answer
instead of a reset connection.
"""

from __future__ import annotations

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from packages_app.hashing import DigestWriter

DISTRIBUTION_FIELD = "content"
# Any other file part (an old twine's gpg_signature) is small.
OTHER_PART_LIMIT = 1024**2


class ReceivedFile(TemporaryUploadedFile):
    """A file part on disk with its size and digests, hex-encoded."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.received_size = 0
        self.too_large = False
        self._digests = DigestWriter()

    def take(self, chunk: bytes, limit: int) -> None:
        self.received_size += len(chunk)
        if self.received_size > limit:
            self.too_large = True
        if self.too_large:
            return
        self._digests.update(chunk)
        self.write(chunk)

    def finish(self) -> ReceivedFile:
        self.flush()
        self.seek(0)
        self.size = self.received_size
        digests = self._digests.digests()
        self.md5, self.sha256, self.blake2_256 = digests.md5, digests.sha256, digests.blake2_256
        return self


class HashingUploadHandler(FileUploadHandler):
    """Every file part goes to disk; the distribution is capped at ``max_file_size``."""

    def __init__(self, request=None, *, max_file_size: int) -> None:
        super().__init__(request)
        self.max_file_size = max_file_size
        self.file: ReceivedFile | None = None

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        self.file = ReceivedFile(file_name, content_type, 0, charset, content_type_extra)
        self.limit = self.max_file_size if field_name == DISTRIBUTION_FIELD else OTHER_PART_LIMIT

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.file.take(raw_data, self.limit)
        return None

    def file_complete(self, file_size: int) -> ReceivedFile:
        return self.file.finish()
