"""Stage 1: read the multipart form the way PyPI's legacy upload API does.

Field names are the lower-cased core metadata names with ``-`` turned into
``_``; multiple-use fields are repeated keys. Values that are ``UNKNOWN``
(a distutils left-over) or empty count as absent, as on PyPI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from packages_app import core_metadata
from packages_app.models import PackageType
from packages_app.upload.errors import UploadError, bad_request
from packages_app.upload.receive import DISTRIBUTION_FIELD, ReceivedFile

FILE_FIELDS = frozenset({DISTRIBUTION_FIELD, "gpg_signature"})
# The multiple-use core metadata fields (and project_urls): the only keys sent more than once.
REPEATABLE_FIELDS = core_metadata.MULTIPLE_USE_FORM_KEYS
# Fields that take one value; sent twice, which one counts would be a guess. Keys
# this index does not know are ignored whatever their count (a newer client may send them).
SINGLE_FIELDS = (
    frozenset(
        {
            ":action",
            "protocol_version",
            "filetype",
            "pyversion",
            "comment",
            "md5_digest",
            "sha256_digest",
            "blake2_256_digest",
        }
    )
    | core_metadata.SINGLE_FORM_KEYS
)
_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_HEX32 = re.compile(r"^[0-9a-f]{32}\Z")
# A wheel's Python tag as clients send it ('py3', 'cp311', 'py2.py3'), at most as long as its column.
_PYVERSION = re.compile(r"^[A-Za-z0-9._+-]{1,64}\Z")

GONE_ACTIONS = {
    "submit": "Project pre-registration is no longer required or supported, upload your files instead.",
    "submit_pkg_info": "Project pre-registration is no longer required or supported, upload your files instead.",
    "doc_upload": "Uploading documentation is not supported; publish documentation with your documentation host.",
}


@dataclass
class UploadForm:
    """The sanitised form: single values, lists for repeated keys, and the file."""

    values: dict[str, list[str]]
    content: ReceivedFile | None
    digests: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        items = self.values.get(key)
        return items[0] if items else default

    def getlist(self, key: str) -> list[str]:
        return list(self.values.get(key, []))

    @property
    def filetype(self) -> str:
        return self.get("filetype")

    @property
    def pyversion(self) -> str:
        return self.get("pyversion")

    @property
    def comment(self) -> str:
        return self.get("comment")


def _clean(value: str) -> str | None:
    if not value.strip() or value.strip() == "UNKNOWN":
        return None
    return value


def read_action(post: QueryDict) -> None:
    """Refuse the actions PyPI retired; anything but ``file_upload`` is an error."""
    action = post.get(":action", "")
    if action in GONE_ACTIONS:
        raise UploadError(410, GONE_ACTIONS[action])
    if action != "file_upload":
        raise bad_request("Unknown or missing ':action'; this endpoint takes ':action=file_upload'.")


def read_form(post: QueryDict, files: MultiValueDict) -> UploadForm:
    for key in files:
        if key not in FILE_FIELDS:
            raise bad_request(f"{key}: Should not be a tuple.")
    values: dict[str, list[str]] = {}
    for key, items in post.lists():
        _check_raw_field(key, items)
        cleaned = [value for value in (_clean(item) for item in items) if value is not None]
        if cleaned:
            values[key] = cleaned
    form = UploadForm(values=values, content=files.get(DISTRIBUTION_FIELD))
    if form.get("protocol_version", "1") != "1":
        raise bad_request("Unknown protocol version.")
    form.digests = _read_digests(form)
    _check_filetype(form)
    return form


def _check_raw_field(key: str, items: list[str]) -> None:
    # PyPI escapes NULs so that PostgreSQL can store the text; a NUL in package
    # metadata is a broken or hostile client, and is refused instead.
    if "\x00" in key:
        raise bad_request(f"Invalid field name {key!r}. Error: Null bytes are not allowed.")
    if any("\x00" in item for item in items):
        raise bad_request(f"Invalid value for {key}. Error: Null bytes are not allowed.")
    if len(items) > 1 and key in SINGLE_FIELDS:
        raise bad_request(f"Invalid value for {key}. Error: Sent {len(items)} times; this field takes one value.")


def _read_digests(form: UploadForm) -> dict[str, str]:
    digests = {}
    for key, label in (("sha256_digest", "SHA256"), ("blake2_256_digest", "BLAKE2")):
        value = form.get(key).strip().lower()
        if value:
            if not _HEX64.match(value):
                raise bad_request(f"Invalid value for {key}. Error: Use a valid, hex-encoded, {label} message digest.")
            digests[key] = value
    md5 = form.get("md5_digest").strip().lower()
    if md5:
        if not _HEX32.match(md5):
            raise bad_request("Invalid value for md5_digest. Error: Use a valid, hex-encoded, MD5 message digest.")
        digests["md5_digest"] = md5
    return digests


def _check_filetype(form: UploadForm) -> None:
    """Fields the metadata parser does not know about, checked in PyPI's order."""
    if not form.filetype:
        raise bad_request("Invalid value for filetype. Error: This field is required.")
    if form.filetype not in (PackageType.SDIST, PackageType.BDIST_WHEEL):
        raise bad_request("Invalid value for filetype. Error: Use a known file type.")
    if form.filetype == PackageType.SDIST:
        if form.pyversion and form.pyversion != "source":
            raise bad_request("Invalid value for pyversion. Error: Use 'source' as Python version for an sdist.")
        form.values["pyversion"] = ["source"]
    elif not form.pyversion:
        raise bad_request(
            "Invalid value for pyversion. Error: Python version is required for binary distribution uploads."
        )
    elif not _PYVERSION.match(form.pyversion):
        raise bad_request(
            "Invalid value for pyversion. Error: Use the wheel's Python tag, such as 'py3' or 'cp312' "
            "(letters, digits, '.', '_', '+' and '-', at most 64 characters)."
        )


def require_digest(form: UploadForm) -> None:
    if not form.digests:
        raise bad_request("Error: Include at least one message digest.")
