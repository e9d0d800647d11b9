"""Receive the uploaded file: stream it to a temporary file, hashing on the way.

Django's multipart parser hands each file part to this handler in chunks, so
memory stays bounded whatever the file size. A part over its size limit is
read to the end but not kept, so that the client still receives the answer
instead of a reset connection.

The form is read by :class:`UploadParser`, Django's parser with two things
Django does quietly made visible, so that the upload can be refused instead:
text that is not UTF-8 (Django would turn it into U+FFFD) and file names that
Django rewrites (it keeps only the last path segment, resolves HTML entities
and drops characters that are not printable).
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http.multipartparser import MultiPartParser

from packages_app.hashing import DigestWriter

if TYPE_CHECKING:
    from typing_extensions import Buffer

DISTRIBUTION_FIELD = "content"
# Any other file part (an old twine's gpg_signature) is small.
OTHER_PART_LIMIT = 1024**2


class ReceivedFile(TemporaryUploadedFile):
    """A file part on disk with its size and digests, hex-encoded."""

    # Narrower than UploadedFile's: Django's parser keeps a part as a file only when it has
    # a filename, and finish() sets the size.
    name: str
    size: int

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
        assert self.file is not None, "Django calls new_file() before the part's data"
        self.file.take(raw_data, self.limit)
        return None

    def file_complete(self, file_size: int) -> ReceivedFile:
        assert self.file is not None, "Django calls new_file() before file_complete()"
        return self.file.finish()


# Django decodes every form field with errors="replace". This codec is UTF-8
# that ignores the errors argument, so bytes that are not UTF-8 raise
# UnicodeDecodeError from the parser instead of becoming U+FFFD in the metadata.
STRICT_UTF8 = "pyidx_strict_utf_8"
_UTF8 = codecs.lookup("utf-8")


def _strict_decode(data: Buffer, errors: str = "strict") -> tuple[str, int]:
    return _UTF8.decode(data, "strict")


def _find_strict_utf8(name: str) -> codecs.CodecInfo | None:
    if name != STRICT_UTF8:
        return None
    return codecs.CodecInfo(
        name=STRICT_UTF8,
        encode=_UTF8.encode,
        decode=_strict_decode,
        incrementalencoder=_UTF8.incrementalencoder,
        incrementaldecoder=_UTF8.incrementaldecoder,
        streamreader=_UTF8.streamreader,
        streamwriter=_UTF8.streamwriter,
    )


codecs.register(_find_strict_utf8)


class UploadParser(MultiPartParser):
    """Django's multipart parser, reading UTF-8 strictly and keeping each file part's name as sent."""

    def __init__(self, META, input_data, upload_handlers) -> None:
        super().__init__(META, input_data, upload_handlers, encoding=STRICT_UTF8)
        # (name as sent, name as Django kept it, None when it dropped the part) for every file part.
        self.file_names: list[tuple[str, str | None]] = []

    def sanitize_file_name(self, file_name: str) -> str | None:
        kept = super().sanitize_file_name(file_name)
        self.file_names.append((file_name, kept))
        return kept


class CountingReader:
    """The request body as the parser reads it, counting the bytes that really arrived."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.received = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.received += len(data)
        return data
