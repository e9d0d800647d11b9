"""What twine sends: the upload form's fields and its multipart/form-data body.

``twine_fields`` are the text fields; ``Form`` writes the body byte by byte, so a
hostile test can also send what no well-behaved client would: raw bytes that are
not UTF-8, NULs, repeated parts, file names with separators, a body cut short.
``streamed_form`` gives the body around the file's bytes, for senders that stream a
big file from disk."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

BOUNDARY = "hostile-boundary-7f3a"


@dataclass(frozen=True)
class Part:
    name: bytes | str
    value: bytes | str
    filename: bytes | str | None = None  # set: a file part
    content_type: str | None = None
    headers: tuple[bytes, ...] = ()  # extra raw header lines

    def encode(self) -> bytes:
        disposition = b'Content-Disposition: form-data; name="' + _bytes(self.name) + b'"'
        if self.filename is not None:
            disposition += b'; filename="' + _bytes(self.filename) + b'"'
        lines = [disposition]
        if self.content_type is not None:
            lines.append(f"Content-Type: {self.content_type}".encode())
        elif self.filename is not None:
            lines.append(b"Content-Type: application/octet-stream")
        lines.extend(self.headers)
        return b"\r\n".join(lines) + b"\r\n\r\n" + _bytes(self.value)


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


@dataclass(frozen=True)
class Form:
    """An upload form as an ordered list of parts; edits return a new form."""

    parts: tuple[Part, ...]
    boundary: str = BOUNDARY

    def body(self) -> bytes:
        delimiter = b"--" + self.boundary.encode()
        chunks = [delimiter + b"\r\n" + part.encode() + b"\r\n" for part in self.parts]
        return b"".join(chunks) + delimiter + b"--\r\n"

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def without(self, name: str) -> Form:
        return replace(self, parts=tuple(part for part in self.parts if part.name != name))

    def with_value(self, name: str, value: bytes | str) -> Form:
        """Replace every part of that name (or add one) with a single text part."""
        return self.without(name).plus(Part(name, value))

    def plus(self, *parts: Part) -> Form:
        return replace(self, parts=(*self.parts, *parts))

    def content(self) -> Part:
        return next(part for part in self.parts if part.name == "content")

    def around_content(self) -> tuple[bytes, bytes]:
        """The body before and after the file's bytes (the last part), for a sender that streams the file."""
        assert self.parts[-1].name == "content", "the file part must come last"
        body = self.with_content(value=b"").body()
        tail = b"\r\n--" + self.boundary.encode() + b"--\r\n"
        return body[: -len(tail)], tail

    def with_content(self, **changes) -> Form:
        content = replace(self.content(), **changes)
        return replace(self, parts=tuple(content if part.name == "content" else part for part in self.parts))


@dataclass(frozen=True)
class Upload:
    """One request to the upload endpoint: a body, its Content-Type and, when it lies, its Content-Length."""

    body: bytes
    content_type: str
    content_length: str | None = None

    @classmethod
    def of(cls, form: Form, **changes) -> Upload:
        return cls(form.body(), form.content_type, **changes)


def digests(data: bytes) -> dict[str, str]:
    """The digest fields twine sends for ``data``."""
    return {
        "sha256_digest": hashlib.sha256(data).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(data, digest_size=32).hexdigest(),
    }


def twine_fields(
    filename: str, name: str, version: str, file_digests: dict[str, str], **fields: str | list[str]
) -> dict[str, str | list[str]]:
    """The text fields twine sends for a distribution with these digests, updated with ``fields``."""
    is_wheel = filename.endswith(".whl")
    values: dict[str, str | list[str]] = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": name,
        "version": version,
        "metadata_version": "2.1",
        "summary": "A test package",
        "filetype": "bdist_wheel" if is_wheel else "sdist",
        "pyversion": "py3" if is_wheel else "source",
        **file_digests,
    }
    values.update(fields)
    return values


def fields_form(
    values: dict[str, str | list[str]], filename: str, data: bytes = b"", *, boundary: str = BOUNDARY
) -> Form:
    """A form of text parts (a list value: one part per item) and, last, the file part ``content``."""
    parts = []
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(Part(key, item))
    parts.append(Part("content", data, filename=filename))
    return Form(tuple(parts), boundary)


def twine_form(data: bytes, filename: str, name: str, version: str, **fields: str | list[str]) -> Form:
    """The parts twine sends for a distribution (digests of ``data``), plus ``fields``."""
    return fields_form(twine_fields(filename, name, version, digests(data), **fields), filename, data)


def form_for(path: Path, name: str, version: str, **fields) -> Form:
    return twine_form(path.read_bytes(), path.name, name, version, **fields)
