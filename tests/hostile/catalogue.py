"""Every kind of hostile input the index is tried with, and each concrete input.

The tests in this folder iterate over these lists (one test per case, named
``<kind>/<case>``), and ``python -m tests.hostile.report`` counts them for
docs/reliability.md, so the figures there come from the code that runs.

A case's ``make`` builds the input when the test runs (some are megabytes);
``expect`` is a fragment of the message the refusal must carry.
"""

from __future__ import annotations

import base64
import gzip
import tarfile
import xmlrpc.client
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.upload_form import Form, Part, Upload, twine_form
from tests.hostile import payloads as p

# Examples hypothesis draws in one run of each property test (tests/hostile/test_properties.py).
FORM_EXAMPLES = 100
FILENAME_EXAMPLES = 100
ARCHIVE_EXAMPLES = 60


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[], Any]
    expect: str
    status: int = 400


@dataclass(frozen=True)
class Kind:
    name: str
    category: str
    what: str
    cases: tuple[Case, ...] = ()
    generated: int = 0  # inputs drawn by hypothesis, on top of the fixed cases
    property_test: str = ""  # the test function that draws them

    @property
    def count(self) -> int:
        return len(self.cases) + self.generated


CATEGORIES = {
    "form": "Upload form fields",
    "filename": "Upload file names",
    "digest": "Upload digests",
    "archive": "Archives",
    "metadata": "Core metadata inside archives",
    "request": "Upload request framing",
    "credentials": "Credentials",
    "api-body": "Metadata API request bodies",
    "xml-rpc": "XML-RPC request bodies",
    "read": "Read URLs, query strings and headers",
}


# --- Upload forms ------------------------------------------------------------------


def sound_form(**fields) -> Form:
    """A valid wheel upload of demo 1.0; every case breaks one thing of it."""
    return twine_form(p.wheel(), p.WHEEL, p.NAME, p.VERSION, **fields)


def _with(name: str, value: bytes | str) -> Callable[[], Upload]:
    return lambda: Upload.of(sound_form().with_value(name, value))


def _without(*names: str) -> Callable[[], Upload]:
    def make() -> Upload:
        form = sound_form()
        for name in names:
            form = form.without(name)
        return Upload.of(form)

    return make


def _twice(name: str, value: bytes | str) -> Callable[[], Upload]:
    return lambda: Upload.of(sound_form().plus(Part(name, value)))


def _plus(*parts: Part) -> Callable[[], Upload]:
    return lambda: Upload.of(sound_form().plus(*parts))


def _filename(filename: bytes | str) -> Callable[[], Upload]:
    return lambda: Upload.of(sound_form().with_content(filename=filename))


def _archive(make_data: Callable[[], bytes], filename: str = p.WHEEL) -> Callable[[], Upload]:
    return lambda: Upload.of(twine_form(make_data(), filename, p.NAME, p.VERSION))


def _header_not_utf8(name: str) -> Callable[[], Upload]:
    def make() -> Upload:
        form = sound_form()
        marker = f'name="{name}"'.encode()
        return Upload(form.body().replace(marker, marker + b'; note="caf\xe9"', 1), form.content_type)

    return make


def _many_fields() -> Upload:
    return Upload.of(sound_form().plus(*(Part(f"x{index}", "1") for index in range(5001))))


def _many_files() -> Upload:
    return Upload.of(sound_form().plus(*(Part("gpg_signature", b"x", filename=f"s{i}.asc") for i in range(101))))


def _huge_description() -> Upload:
    return Upload.of(sound_form().with_value("description", "x" * (17 * p.MiB)))


FORM_KINDS = [
    Kind(
        "missing-field",
        "form",
        "A field the upload needs is left out.",
        (
            Case("action", _without(":action"), "Unknown or missing ':action'"),
            Case("name", _without("name"), "'name' is a required field."),
            Case("version", _without("version"), "'version' is a required field."),
            Case("metadata-version", _without("metadata_version"), "'metadata_version' is a required field."),
            Case("filetype", _without("filetype"), "Invalid value for filetype. Error: This field is required."),
            Case("pyversion", _without("pyversion"), "Python version is required for binary distribution uploads."),
            Case("content", _without("content"), "Upload payload does not have a file."),
            Case("digests", _without("sha256_digest", "blake2_256_digest"), "Include at least one message digest."),
        ),
    ),
    Kind(
        "repeated-field",
        "form",
        "A field that takes one value is sent twice (which one would count?).",
        (
            Case("action", _twice(":action", "file_upload"), "Invalid value for :action. Error: Sent 2 times"),
            Case("name", _twice("name", "other"), "Invalid value for name. Error: Sent 2 times"),
            Case("version", _twice("version", "2.0"), "Invalid value for version. Error: Sent 2 times"),
            Case("metadata-version", _twice("metadata_version", "2.4"), "metadata_version. Error: Sent 2 times"),
            Case("filetype", _twice("filetype", "sdist"), "Invalid value for filetype. Error: Sent 2 times"),
            Case("pyversion", _twice("pyversion", "cp312"), "Invalid value for pyversion. Error: Sent 2 times"),
            Case("summary", _twice("summary", "other"), "Invalid value for summary. Error: Sent 2 times"),
            Case("sha256", _twice("sha256_digest", "0" * 64), "Invalid value for sha256_digest. Error: Sent 2 times"),
            Case(
                "content",
                lambda: Upload.of(sound_form().plus(sound_form().content())),
                "The form has 2 'content' parts; send one file per upload.",
            ),
        ),
    ),
    Kind(
        "oversized-field",
        "form",
        "Fields past what the index keeps: the form's memory limit, field and file counts, column lengths.",
        (
            Case("description-17mib", _huge_description, "The form fields are too large"),
            Case("5001-fields", _many_fields, "The form has too many fields."),
            Case("101-file-parts", _many_files, "The form has too many file parts"),
            Case("summary-513", _with("summary", "x" * 513), "'summary' must be 512 characters or less."),
            Case(
                "requires-python-300",
                _with("requires_python", ",".join([">=1.0"] * 60)),
                "'requires_python' must be 255 characters or less.",
            ),
            Case(
                "description-content-type-300",
                _with("description_content_type", "text/plain; charset=UTF-8; x=" + "y" * 300),
                "'description_content_type' must be 255 characters or less.",
            ),
            Case("pyversion-65", _with("pyversion", "p" * 65), "Invalid value for pyversion."),
            Case(
                "signature-2mib",
                _plus(Part("gpg_signature", b"x" * (2 * p.MiB), filename="demo-1.0-py3-none-any.whl.asc")),
                "The 'gpg_signature' part is larger than 1 MiB.",
            ),
            Case("name-300", _with("name", "d" * 300), "Start filename for"),
            Case("version-300", _with("version", "1." + "0" * 298), "'version' must be 255 characters or less."),
        ),
    ),
    Kind(
        "non-utf8-field",
        "form",
        "Field bytes that are not UTF-8 (Django would quietly turn them into U+FFFD).",
        (
            Case("latin1-summary", _with("summary", b"caf\xe9"), "The form is not valid UTF-8: a text field"),
            Case("latin1-name", _with("name", b"d\xe9mo"), "The form is not valid UTF-8: a text field"),
            Case(
                "cp1252-description",
                _with("description", b"\x93quoted\x94"),
                "The form is not valid UTF-8: a text field",
            ),
            Case("overlong-slash", _with("summary", b"\xc0\xaf"), "The form is not valid UTF-8: a text field"),
            Case("encoded-surrogate", _with("summary", b"\xed\xa0\x80"), "The form is not valid UTF-8: a text field"),
            Case("truncated-sequence", _with("author", b"abc\xe2\x82"), "The form is not valid UTF-8: a text field"),
            # Django skips a part whose header is not UTF-8, as if it was never sent.
            Case("latin1-part-header", _header_not_utf8("name"), "'name' is a required field."),
            Case("latin1-file-header", _header_not_utf8("content"), "Upload payload does not have a file."),
        ),
    ),
    Kind(
        "nul-field",
        "form",
        "NUL characters in field values or names.",
        (
            Case("name", _with("name", "demo\x00"), "Invalid value for name. Error: Null bytes are not allowed."),
            Case("version", _with("version", "1.0\x00"), "Invalid value for version. Error: Null bytes"),
            Case("summary", _with("summary", "a\x00b"), "Invalid value for summary. Error: Null bytes"),
            Case("description", _with("description", "\x00" * 100), "Invalid value for description. Error: Null"),
            Case("filetype", _with("filetype", "bdist_wheel\x00"), "Invalid value for filetype. Error: Null bytes"),
            Case("digest", _with("sha256_digest", "\x00" * 64), "Invalid value for sha256_digest. Error: Null"),
            Case("field-name", _plus(Part("sum\x00mary", "x")), "Invalid field name 'sum\\x00mary'."),
        ),
    ),
    Kind(
        "wrong-type",
        "form",
        "A field of the wrong kind: a file where text belongs and the reverse, values of the wrong shape.",
        (
            Case("name-as-file", _plus(Part("name2", b"demo", filename="name.txt")), "name2: Should not be a tuple."),
            Case(
                "summary-as-file",
                lambda: Upload.of(sound_form().without("summary").plus(Part("summary", b"x", filename="s.txt"))),
                "summary: Should not be a tuple.",
            ),
            Case(
                "content-as-text",
                lambda: Upload.of(sound_form().without("content").plus(Part("content", p.wheel()))),
                "The form is not valid UTF-8: a text field",
            ),
            Case("protocol-version", _with("protocol_version", "2"), "Unknown protocol version."),
            Case("filetype-unknown", _with("filetype", "bdist_egg"), "Use a known file type."),
            Case(
                "filetype-sdist-for-wheel",
                lambda: Upload.of(sound_form(filetype="sdist", pyversion="source")),
                "Extension .whl is invalid for filetype sdist",
            ),
            Case("metadata-version-text", _with("metadata_version", "two"), "'two' is not a valid metadata version"),
            Case("version-text", _with("version", "one point oh"), "'one point oh' is invalid for 'version'"),
            Case("classifier-number", _with("classifiers", "42"), "Classifier '42' is not a valid classifier."),
            Case("project-url-no-comma", _with("project_urls", "nocomma"), "is not a valid URL."),
            Case("home-page-script", _with("home_page", "javascript:alert(1)"), "is not a valid URL."),
            Case("requires-dist-garbage", _with("requires_dist", "?!"), "'?!' is invalid for 'requires-dist'"),
            Case("action-padded", _with(":action", "file_upload\t"), "Unknown or missing ':action'"),
        ),
    ),
]


# --- File names --------------------------------------------------------------------

_NON_ASCII = "Cannot upload a file with non-ASCII characters in the name"
_SEPARATOR = "Cannot upload a file with '/' or '\\' in the name."
_CONTROL = "Cannot upload a file with non-printable characters"

FILENAME_KINDS = [
    Kind(
        "path-separator",
        "filename",
        "Names with path separators (Django would keep only the last segment).",
        (
            Case("dotdot", _filename("../../demo-1.0-py3-none-any.whl"), _SEPARATOR),
            Case("backslash-dotdot", _filename("..\\..\\demo-1.0-py3-none-any.whl"), _SEPARATOR),
            Case("absolute", _filename("/srv/dist/demo-1.0-py3-none-any.whl"), _SEPARATOR),
            Case("drive", _filename("C:\\dist\\demo-1.0-py3-none-any.whl"), _SEPARATOR),
            Case("folder", _filename("dist/demo-1.0-py3-none-any.whl"), _SEPARATOR),
            Case(
                "rfc2231-encoded",
                lambda: Upload(
                    sound_form()
                    .with_content(filename=None)
                    .body()
                    .replace(
                        b'name="content"\r\n',
                        b"name=\"content\"; filename*=UTF-8''..%2F..%2Fdemo-1.0-py3-none-any.whl\r\n",
                    ),
                    sound_form().content_type,
                ),
                _SEPARATOR,
            ),
        ),
    ),
    Kind(
        "control-character",
        "filename",
        "Names with control characters (Django would drop them).",
        (
            Case("soh", _filename("demo\x01-1.0-py3-none-any.whl"), _CONTROL),
            Case("escape-sequence", _filename("\x1b[2Jdemo-1.0-py3-none-any.whl"), _CONTROL),
            Case("delete", _filename("demo-1.0-py3-none-any.whl\x7f"), _CONTROL),
            Case("tab", _filename("demo-1.0-py3-none-any\t.whl"), _CONTROL),
        ),
    ),
    Kind(
        "look-alike",
        "filename",
        "Unicode that looks like the real name, or cannot be seen.",
        (
            Case("cyrillic-e", _filename("dеmo-1.0-py3-none-any.whl"), _NON_ASCII),
            Case("greek-omicron", _filename("demο-1.0-py3-none-any.whl"), _NON_ASCII),
            Case("fullwidth-d", _filename("ｄemo-1.0-py3-none-any.whl"), _NON_ASCII),
            Case("zero-width-space", _filename("demo\u200b-1.0-py3-none-any.whl"), _NON_ASCII),
            Case("right-to-left-override", _filename("demo-1.0-py3-none-any\u202eslw.whl"), _NON_ASCII),
            Case("no-break-space", _filename("demo-1.0-py3-none-any.whl\u00a0"), _NON_ASCII),
            Case("combining-accent", _filename("demo\u0301-1.0-py3-none-any.whl"), _NON_ASCII),
            Case("one-dot-leader", _filename("demo-1\u20240-py3-none-any.whl"), _NON_ASCII),
        ),
    ),
    Kind(
        "html-entity",
        "filename",
        "Names with HTML entities (Django would resolve them).",
        (
            Case("letter", _filename("dem&#111;-1.0-py3-none-any.whl"), "Invalid filename 'dem&#111;"),
            Case("slash", _filename("..&#47;demo-1.0-py3-none-any.whl"), "Invalid filename '..&#47;"),
        ),
    ),
    Kind(
        "wrong-case",
        "filename",
        "The right name in the wrong case.",
        (
            Case("project", _filename("Demo-1.0-py3-none-any.whl"), "should contain the normalized project name"),
            Case("extension-whl", _filename("demo-1.0-py3-none-any.WHL"), "Extension .WHL is invalid"),
            Case(
                "extension-tar-gz",
                lambda: Upload.of(
                    twine_form(p.sdist(), "demo-1.0.TAR.GZ", p.NAME, p.VERSION, filetype="sdist", pyversion="source")
                ),
                "Extension .TAR.GZ is invalid",
            ),
            Case(
                "sdist-project",
                lambda: Upload.of(twine_form(p.sdist(), "DEMO-1.0.tar.gz", p.NAME, p.VERSION)),
                "Filename 'DEMO-1.0.tar.gz' is invalid, should be 'demo-1.0.tar.gz'.",
            ),
        ),
    ),
    Kind(
        "wrong-extension",
        "filename",
        "Names whose extension is not the file type's.",
        (
            Case("exe", _filename("demo-1.0-py3-none-any.exe"), "Invalid file extension: Use .tar.gz or .whl"),
            Case("zip", _filename("demo-1.0-py3-none-any.zip"), "Extension .zip is invalid for filetype bdist_wheel"),
            Case("egg", _filename("demo-1.0-py3.12.egg"), "Invalid file extension: Use .tar.gz or .whl"),
            Case("tar-bz2", _filename("demo-1.0.tar.bz2"), "Invalid file extension: Use .tar.gz or .whl"),
            Case("tgz", _filename("demo-1.0.tgz"), "Invalid file extension: Use .tar.gz or .whl"),
            Case("no-extension", _filename("demo-1.0-py3-none-any"), "Invalid file extension"),
            Case("trailing-dot", _filename("demo-1.0-py3-none-any.whl."), "Invalid file extension"),
            Case("trailing-space", _filename("demo-1.0-py3-none-any.whl "), "Invalid file extension"),
            Case("double", _filename("demo-1.0.tar.gz.whl"), "Invalid wheel filename"),
            Case(
                "wheel-as-sdist",
                lambda: Upload.of(twine_form(p.wheel(), "demo-1.0.tar.gz", p.NAME, p.VERSION)),
                "is not a gzip-compressed tar archive",
            ),
        ),
    ),
    Kind(
        "empty-or-dots",
        "filename",
        "Names that are empty, dots only, or too long.",
        (
            # Without a filename the part is a text field, and a wheel is not UTF-8 text.
            Case("empty", _filename(""), "a file part sent without a filename counts as text"),
            Case("dot", _filename("."), "Invalid filename '.'"),
            Case("dotdot", _filename(".."), "Invalid filename '..'"),
            Case("256-characters", _filename("d" * 252 + ".whl"), "The filename is longer than 255 characters."),
        ),
    ),
]


# --- Digests -----------------------------------------------------------------------

DIGEST_KINDS = [
    Kind(
        "wrong-length",
        "digest",
        "Digests one character short or long, or not hex.",
        (
            Case("sha256-63", _with("sha256_digest", "a" * 63), "Use a valid, hex-encoded, SHA256 message digest."),
            Case("sha256-65", _with("sha256_digest", "a" * 65), "Use a valid, hex-encoded, SHA256 message digest."),
            Case("blake2-63", _with("blake2_256_digest", "a" * 63), "Use a valid, hex-encoded, BLAKE2 message digest."),
            Case("blake2-65", _with("blake2_256_digest", "a" * 65), "Use a valid, hex-encoded, BLAKE2 message digest."),
            Case("md5-31", _with("md5_digest", "a" * 31), "Use a valid, hex-encoded, MD5 message digest."),
            Case("md5-33", _with("md5_digest", "a" * 33), "Use a valid, hex-encoded, MD5 message digest."),
            Case("sha256-not-hex", _with("sha256_digest", "g" * 64), "Use a valid, hex-encoded, SHA256"),
            Case("md5-non-ascii", _with("md5_digest", "é" * 32), "Use a valid, hex-encoded, MD5 message digest."),
            Case("sha256-base64", _with("sha256_digest", base64.b64encode(b"x" * 32).decode()), "SHA256"),
        ),
    ),
    Kind(
        "wrong-value",
        "digest",
        "Well-formed digests of other bytes.",
        (
            Case("sha256", _with("sha256_digest", "0" * 64), "The digest supplied does not match"),
            Case("blake2", _with("blake2_256_digest", "0" * 64), "The digest supplied does not match"),
            Case("md5", _with("md5_digest", "0" * 32), "The digest supplied does not match"),
        ),
    ),
]


# --- Archives ----------------------------------------------------------------------

_INVALID = "Invalid distribution file."

ARCHIVE_KINDS = [
    Kind(
        "truncated",
        "archive",
        "Archives cut short.",
        (
            Case("wheel-half", _archive(lambda: p.truncated(p.wheel(), 0.5)), "is not a valid zip archive"),
            Case("wheel-90-percent", _archive(lambda: p.truncated(p.wheel(), 0.9)), "is not a valid zip archive"),
            Case("wheel-10-bytes", _archive(lambda: p.wheel()[:10]), "is not a valid zip archive"),
            Case("sdist-half", _archive(lambda: p.truncated(p.sdist(), 0.5), p.SDIST), "not a valid gzip-compressed"),
            Case("sdist-gzip-header", _archive(lambda: p.sdist()[:10], p.SDIST), "not a valid gzip-compressed"),
            Case("empty-file", _archive(lambda: b""), "is not a zip archive."),
        ),
    ),
    Kind(
        "zip-bomb-ratio",
        "archive",
        "Archives that inflate past 50 times their size (once past 64 MiB).",
        (
            Case("wheel-70mib-zeros", _archive(p.wheel_bomb), "File exceeds compression ratio of 50."),
            Case("sdist-100mib-zeros", _archive(p.sdist_bomb, p.SDIST), "File exceeds compression ratio of 50."),
            Case("overlapping-members", _archive(p.overlapping_wheel), "Archive members overlap."),
        ),
    ),
    Kind(
        "zip-bomb-size",
        "archive",
        "Archives that claim more than 4 GiB uncompressed.",
        (
            Case("wheel-declares-8gib", _archive(p.wheel_declaring_huge_sizes), "when uncompressed."),
            Case("sdist-member-5gib", _archive(p.sdist_declaring_huge_member, p.SDIST), "when uncompressed."),
        ),
    ),
    Kind(
        "many-members",
        "archive",
        "A zip with more members than the index reads (100,000).",
        (Case("wheel-100001", _archive(p.wheel_with_too_many_members), "Archive has more than 100000 members."),),
    ),
    Kind(
        "duplicate-member",
        "archive",
        "Two members with one name.",
        (
            Case(
                "wheel",
                _archive(lambda: p.wheel(extra=[("demo/__init__.py", b"evil")])),
                "Archive contains more than one member named 'demo/__init__.py'.",
            ),
            Case(
                "wheel-spelled-differently",
                _archive(lambda: p.wheel(extra=[("./demo//__init__.py", b"evil")])),
                "more than one member named './demo//__init__.py'",
            ),
            Case(
                "sdist",
                _archive(lambda: p.sdist(extra=[p.tar_file("demo-1.0/pyproject.toml")]), p.SDIST),
                "more than one member named 'demo-1.0/pyproject.toml'",
            ),
        ),
    ),
    Kind(
        "member-path",
        "archive",
        "Members with absolute, drive, '..' or backslash paths, or a NUL.",
        (
            Case("zip-absolute", _archive(lambda: p.wheel(extra=[("/etc/cron.d/x", b"")])), "has an absolute path"),
            Case("zip-drive", _archive(lambda: p.wheel(extra=[("C:/evil.py", b"")])), "has an absolute path"),
            Case("zip-dotdot", _archive(lambda: p.wheel(extra=[("demo/../../x", b"")])), "a '..' path segment"),
            Case("zip-backslash", _archive(lambda: p.wheel(extra=[("demo\\..\\x", b"")])), "contains a backslash"),
            Case("zip-nul", _archive(p.zip_member_with_nul), "contains a control character"),
            Case(
                "tar-absolute",
                _archive(lambda: p.sdist(extra=[p.tar_file("/etc/passwd")]), p.SDIST),
                "Archive member '/etc/passwd' has an absolute path.",
            ),
            Case(
                "tar-dotdot",
                _archive(lambda: p.sdist(extra=[p.tar_file("demo-1.0/../../evil")]), p.SDIST),
                "contains a '..' path segment",
            ),
        ),
    ),
    Kind(
        "link",
        "archive",
        "Symbolic and hard links, in a zip at all or pointing outside a tar's top folder.",
        (
            Case("zip-symlink", _archive(p.zip_symlink_wheel), "Archive member 'demo/link' is a symbolic link."),
            Case(
                "tar-symlink-absolute",
                _archive(lambda: p.sdist(extra=[p.tar_link("demo-1.0/passwd", "/etc/passwd")]), p.SDIST),
                "links to '/etc/passwd', outside the archive.",
            ),
            Case(
                "tar-symlink-escapes",
                _archive(lambda: p.sdist(extra=[p.tar_link("demo-1.0/up", "../../etc/passwd")]), p.SDIST),
                "links to '../../etc/passwd', outside the archive.",
            ),
            Case(
                "tar-symlink-leaves-top",
                _archive(lambda: p.sdist(extra=[p.tar_link("demo-1.0/up", "../other")]), p.SDIST),
                "links to '../other', outside 'demo-1.0'.",
            ),
            Case(
                "tar-hardlink-absolute",
                _archive(lambda: p.sdist(extra=[p.tar_link("demo-1.0/h", "/etc/shadow", tarfile.LNKTYPE)]), p.SDIST),
                "links to '/etc/shadow', outside the archive.",
            ),
            Case(
                "tar-hardlink-escapes",
                _archive(
                    lambda: p.sdist(extra=[p.tar_link("demo-1.0/h", "demo-1.0/../../x", tarfile.LNKTYPE)]), p.SDIST
                ),
                "outside the archive.",
            ),
        ),
    ),
    Kind(
        "device",
        "archive",
        "Tar members that are devices, FIFOs, sparse files or of unknown type.",
        (
            Case(
                "char-device",
                _archive(lambda: p.sdist(extra=[p.tar_file("demo-1.0/tty", type=tarfile.CHRTYPE)]), p.SDIST),
                "is a device or FIFO.",
            ),
            Case(
                "block-device",
                _archive(lambda: p.sdist(extra=[p.tar_file("demo-1.0/sda", type=tarfile.BLKTYPE)]), p.SDIST),
                "is a device or FIFO.",
            ),
            Case(
                "fifo",
                _archive(lambda: p.sdist(extra=[p.tar_file("demo-1.0/pipe", type=tarfile.FIFOTYPE)]), p.SDIST),
                "is a device or FIFO.",
            ),
            Case(
                "sparse",
                _archive(
                    lambda: p.sdist(
                        tarfile.GNU_FORMAT, extra=[p.tar_file("demo-1.0/sparse", type=tarfile.GNUTYPE_SPARSE)]
                    ),
                    p.SDIST,
                ),
                "is a sparse file.",
            ),
            Case(
                "unknown-type",
                _archive(lambda: p.sdist(extra=[p.tar_file("demo-1.0/odd", type=b"Z")]), p.SDIST),
                "has an unsupported type",
            ),
        ),
    ),
    Kind(
        "disguised",
        "archive",
        "Archives that are two formats at once, carry hidden bytes, or use what the index does not read.",
        (
            Case(
                "sdist-plus-zip", _archive(lambda: p.sdist() + p.wheel(), p.SDIST), "is both a zip and a tar archive."
            ),
            Case("prepended-data", _archive(lambda: b"MZ" + bytes(100) + p.wheel()), "is not a zip archive."),
            Case("prepended-zip", _archive(lambda: p.zip_bytes([("a", b"")]) + p.wheel()), "Archive has data before"),
            Case("bzip2-members", _archive(lambda: p.wheel(zipfile.ZIP_BZIP2)), "supported compression type"),
            Case("encrypted-member", _archive(p.encrypted_wheel), "is encrypted."),
            Case("gzip-of-text", _archive(lambda: gzip.compress(b"just text"), p.SDIST), "not a valid gzip-compressed"),
        ),
    ),
]

METADATA_KINDS = [
    Kind(
        "huge-metadata",
        "metadata",
        "Core metadata or tar headers over the 16 MiB read into memory.",
        (
            Case("wheel-metadata-17mib", _archive(p.wheel_with_huge_metadata), "METADATA is larger than 16 MiB."),
            Case("sdist-pkg-info-17mib", _archive(p.sdist_with_huge_pkg_info, p.SDIST), "PKG-INFO is larger than"),
            Case("pax-header-17mib", _archive(p.sdist_with_huge_pax_header, p.SDIST), "has a header larger than"),
        ),
    ),
    Kind(
        "binary-metadata",
        "metadata",
        "Core metadata that is not UTF-8 text.",
        (
            Case("metadata-nul", _archive(lambda: p.wheel(meta=p.metadata() + b"\x00\x01")), "contains binary data."),
            Case("metadata-latin1", _archive(lambda: p.wheel(meta=b"Name: demo\nVersion: 1.0\n\xe9")), "valid UTF-8"),
            Case(
                "pkg-info-utf16",
                _archive(lambda: p.sdist(pkg_info=p.metadata().decode().encode("utf-16")), p.SDIST),
                "PKG-INFO is not valid UTF-8.",
            ),
        ),
    ),
    Kind(
        "contradicts-filename",
        "metadata",
        "Core metadata for another project or version than the file name says, or missing its name.",
        (
            Case("wheel-name", _archive(lambda: p.wheel(meta=p.metadata(name="other"))), "has Name 'other'"),
            Case("wheel-version", _archive(lambda: p.wheel(meta=p.metadata(version="2.0"))), "has Version '2.0'"),
            Case("wheel-bad-version", _archive(lambda: p.wheel(meta=p.metadata(version="one"))), "invalid Version"),
            Case(
                "wheel-no-name", _archive(lambda: p.wheel(meta=b"Metadata-Version: 2.1\nVersion: 1.0\n")), "no single"
            ),
            Case(
                "wheel-two-names",
                _archive(lambda: p.wheel(meta=b"Metadata-Version: 2.1\nName: demo\nName: evil\nVersion: 1.0\n")),
                "METADATA has no single Name field.",
            ),
            Case(
                "sdist-name", _archive(lambda: p.sdist(pkg_info=p.metadata(name="other")), p.SDIST), "has Name 'other'"
            ),
            Case(
                "sdist-version",
                _archive(lambda: p.sdist(pkg_info=p.metadata(version="1.1")), p.SDIST),
                "has Version '1.1'",
            ),
            Case(
                "other-dist-info",
                _archive(lambda: p.wheel(dist_info="evil-1.0.dist-info")),
                "does not contain the required METADATA file",
            ),
        ),
    ),
    Kind(
        "missing-metadata",
        "metadata",
        "A wheel without METADATA, WHEEL or RECORD; an sdist without PKG-INFO.",
        (
            Case("metadata", _archive(lambda: p.wheel(drop=["METADATA"])), "the required METADATA file"),
            Case("wheel", _archive(lambda: p.wheel(drop=["WHEEL"])), "the required WHEEL file"),
            Case("record", _archive(lambda: p.wheel(drop=["RECORD"])), "the required RECORD file"),
            Case(
                "pkg-info",
                _archive(lambda: p.tar_gz_bytes([p.tar_dir("demo-1.0"), p.tar_file("demo-1.0/setup.py")]), p.SDIST),
                "the required PKG-INFO file",
            ),
        ),
    ),
]


# --- Request framing -----------------------------------------------------------------


def _cut(make_body: Callable[[Form], bytes]) -> Callable[[], Upload]:
    def make() -> Upload:
        form = sound_form()
        return Upload(make_body(form), form.content_type)

    return make


def _declared(length: str) -> Callable[[], Upload]:
    return lambda: Upload.of(sound_form(), content_length=length)


def _content_type(content_type: str) -> Callable[[], Upload]:
    return lambda: Upload(sound_form().body(), content_type)


def _base64_content() -> Upload:
    form = sound_form()
    broken = form.with_content(value=b"!!!! not base64 !!!!", headers=(b"Content-Transfer-Encoding: base64",))
    return Upload.of(broken)


REQUEST_KINDS = [
    Kind(
        "truncated-body",
        "request",
        "Bodies that end early: no closing boundary, cut inside the file, shorter than their Content-Length says.",
        (
            Case(
                "no-closing-boundary",
                _cut(lambda form: form.body()[: -len(form.boundary) - 6]),
                "Upload payload does not have a file.",
            ),
            Case("cut-in-file", _cut(lambda form: form.body()[: len(form.body()) - 300]), "does not have a file"),
            Case(
                "content-length-half",
                lambda: Upload.of(sound_form(), content_length=str(len(sound_form().body()) // 2)),
                "does not have a file",
            ),
            # The whole form arrives, but the connection closes before the length declared.
            Case(
                "content-length-too-long",
                lambda: Upload.of(sound_form(), content_length=str(len(sound_form().body()) + 4096)),
                "The upload ended after",
            ),
            Case(
                "cut-and-too-long",
                lambda: Upload(sound_form().body()[:900], sound_form().content_type, str(len(sound_form().body()))),
                "The upload ended after 900 of the",
            ),
            Case("headers-only", _cut(lambda form: form.body()[:60]), "Unknown or missing ':action'"),
        ),
    ),
    Kind(
        "bad-framing",
        "request",
        "A Content-Length or Content-Type that cannot be right, part headers too large, broken transfer encoding.",
        (
            Case("content-length-text", _declared("abc"), "Invalid Content-Length: 'abc'."),
            Case("content-length-negative", _declared("-1"), "Invalid Content-Length: '-1'."),
            Case("content-length-zero", _declared("0"), "Unknown or missing ':action'"),
            Case("json-content-type", _content_type("application/json"), "Invalid Content-Type: application/json"),
            Case("urlencoded", _content_type("application/x-www-form-urlencoded"), "Invalid Content-Type"),
            Case("no-boundary", _content_type("multipart/form-data"), "Invalid boundary in multipart"),
            # The whole body reads as one text field then, and a wheel is not UTF-8 text.
            Case("wrong-boundary", _content_type("multipart/form-data; boundary=other"), "The form is not valid UTF-8"),
            Case(
                "part-header-2kib",
                lambda: Upload.of(sound_form().plus(Part("x", "1", headers=(b"X-Padding: " + b"p" * 2048,)))),
                "Request max total header size exceeded.",
            ),
            Case("broken-base64-file", _base64_content, "Could not decode base64 data."),
        ),
    ),
]


# --- Credentials -------------------------------------------------------------------


def _basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode("ascii")


_NOT_RECOGNISED = "Invalid API Token: the token is not recognised."
_USE_BASIC = "Use HTTP Basic authentication or an API token as a Bearer token."
_INVALID_AUTH = "Invalid or non-existent authentication information."

CREDENTIAL_KINDS = [
    Kind(
        "malformed-header",
        "credentials",
        "Authorization headers that do not parse.",
        (
            Case("basic-not-base64", lambda: "Basic ***", _USE_BASIC, 401),
            Case("basic-no-colon", lambda: _basic(b"owner"), _USE_BASIC, 401),
            Case("basic-latin1", lambda: _basic(b"own\xe9r:pw"), _USE_BASIC, 401),
            Case("basic-empty", lambda: "Basic", _USE_BASIC, 401),
            Case("unknown-scheme", lambda: "Digest username=owner", _USE_BASIC, 401),
        ),
    ),
    Kind(
        "bad-token",
        "credentials",
        "Tokens that are empty, of another format, too long, or with a NUL.",
        (
            Case("bearer-empty", lambda: "Bearer ", _NOT_RECOGNISED, 401),
            Case("other-prefix", lambda: "Bearer pypi-AgEIcHlwaS5vcmc", _NOT_RECOGNISED, 401),
            Case("no-secret", lambda: "Bearer pyidx_abc_", _NOT_RECOGNISED, 401),
            Case("key-id-33", lambda: "Bearer pyidx_" + "a" * 33 + "_secret", _NOT_RECOGNISED, 401),
            Case("8kib", lambda: "Bearer pyidx_abc_" + "s" * 8192, _NOT_RECOGNISED, 401),
            Case("nul-in-secret", lambda: _basic(b"__token__:pyidx_abc_\x00secret"), _NOT_RECOGNISED, 401),
            Case("nul-in-key-id", lambda: _basic(b"__token__:pyidx_a\x00b_secret"), _NOT_RECOGNISED, 401),
            Case("sql", lambda: "Bearer pyidx_' OR '1'='1_x", _NOT_RECOGNISED, 401),
        ),
    ),
    Kind(
        "bad-password",
        "credentials",
        "User names and passwords that are wrong, empty or absurd.",
        (
            Case("wrong", lambda: _basic(b"owner:wrong"), _INVALID_AUTH, 401),
            Case("empty-password", lambda: _basic(b"owner:"), _INVALID_AUTH, 401),
            Case("empty-user", lambda: _basic(b":password"), _INVALID_AUTH, 401),
            Case("nul-user", lambda: _basic(b"own\x00er:pw"), _INVALID_AUTH, 401),
            Case("8kib-password", lambda: _basic(b"owner:" + b"p" * 8192), _INVALID_AUTH, 401),
        ),
    ),
]


# --- Metadata API bodies -----------------------------------------------------------


def _json(body: bytes | str, content_type: str = "application/json") -> Callable[[], tuple[str, bytes]]:
    return lambda: (content_type, body.encode() if isinstance(body, str) else body)


def _multipart_json_write() -> tuple[str, bytes]:
    form = Form((Part("version", "9.0"), Part("f", b"x" * 4096, filename="f.bin")))
    return form.content_type, form.body()


API_KINDS = [
    Kind(
        "oversized-json",
        "api-body",
        "JSON bodies over the 16 MiB a request body may have.",
        (
            Case(
                "description-17mib",
                _json('{"version": "9.0", "description": "' + "x" * (17 * p.MiB) + '"}'),
                "larger than",
                413,
            ),
        ),
    ),
    Kind(
        "hostile-json",
        "api-body",
        "JSON that parses into trouble: deep nesting, huge numbers, NULs, wrong types, not UTF-8.",
        (
            Case("nested-100000", _json("[" * 100_000 + "]" * 100_000), "JSON parse error", 400),
            Case("integer-100000-digits", _json('{"version": ' + "9" * 100_000 + "}"), "JSON parse error", 400),
            Case("nul", _json('{"version": "9.0", "summary": "a\\u0000b"}'), "Null characters are not allowed", 400),
            Case("summary-number", _json('{"version": "9.0", "summary": {"a": 1}}'), "Not a valid string", 400),
            Case("classifiers-string", _json('{"version": "9.0", "classifiers": "x"}'), "Expected a list", 400),
            Case("latin1", _json(b'{"version": "9.0", "summary": "caf\xe9"}'), "JSON parse error", 400),
            Case("nan", _json('{"version": NaN}'), "JSON parse error", 400),
            Case("not-json", _json("version=9.0"), "JSON parse error", 400),
        ),
    ),
    Kind(
        "other-media-type",
        "api-body",
        "Bodies the API does not read: forms (they would spool files to disk) and XML.",
        (
            Case(
                "urlencoded", _json("version=9.0", "application/x-www-form-urlencoded"), "Unsupported media type", 415
            ),
            Case("multipart-with-file", _multipart_json_write, "Unsupported media type", 415),
            Case("xml", _json("<version>9.0</version>", "application/xml"), "Unsupported media type", 415),
        ),
    ),
]


# --- XML-RPC bodies ------------------------------------------------------------------

_BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]><methodCall><methodName>&lol9;</methodName></methodCall>"
)


def _xml(body: str | bytes) -> Callable[[], bytes]:
    return lambda: body.encode() if isinstance(body, str) else body


def _call_with_string(method: str, string: bytes) -> Callable[[], bytes]:
    return _xml(
        b"<methodCall><methodName>"
        + method.encode()
        + b"</methodName><params><param><value><string>"
        + string
        + b"</string></value></param></params></methodCall>"
    )


_ENTITIES = "XML with entity declarations is not accepted"
_NOT_A_CALL = "the body is not an XML-RPC method call"


def _search(spec: dict) -> Callable[[], bytes]:
    return lambda: xmlrpc.client.dumps((spec,), "search").encode()


XMLRPC_KINDS = [
    Kind(
        "entity-expansion",
        "xml-rpc",
        "Entity declarations: billion laughs, external entities and DTDs, parameter entities.",
        (
            Case("billion-laughs", _xml(_BILLION_LAUGHS), _ENTITIES),
            Case(
                "external-file",
                _xml(
                    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                    "<methodCall><methodName>&e;</methodName></methodCall>"
                ),
                _ENTITIES,
            ),
            # The DTD is never fetched, so the entity it would declare stays empty.
            Case(
                "external-dtd",
                _xml(
                    '<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">'
                    "<methodCall><methodName>&e;</methodName></methodCall>"
                ),
                "method not found; no method ''",
            ),
            Case(
                "parameter-entity",
                _xml(
                    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p "<!ENTITY e \'x\'>"> %p;]>'
                    "<methodCall><methodName>&e;</methodName></methodCall>"
                ),
                _ENTITIES,
            ),
        ),
    ),
    Kind(
        "oversized-xml",
        "xml-rpc",
        "A body over the 1 MiB an XML-RPC call may have.",
        (
            Case(
                "2mib-string",
                _xml(
                    "<methodCall><methodName>search</methodName><params><param><value><string>"
                    + "x" * (2 * p.MiB)
                    + "</string></value></param></params></methodCall>"
                ),
                "The request body is larger than 1048576 bytes.",
                413,
            ),
        ),
    ),
    Kind(
        "malformed-xml",
        "xml-rpc",
        "XML that is deep, not UTF-8, not a method call, or not XML.",
        (
            Case(
                "nested-20000",
                _xml(
                    "<methodCall><methodName>package_releases</methodName><params><param>"
                    + "<value><array><data>" * 20_000
                    + "</data></array></value>" * 20_000
                    + "</param></params></methodCall>"
                ),
                "package_name: must be a string",
            ),
            Case("latin1", _xml(b"<methodCall><methodName>caf\xe9</methodName></methodCall>"), "parse error"),
            Case("html", _xml("<html><body>hello</body></html>"), _NOT_A_CALL),
            Case("json", _xml('{"method": "list_packages"}'), _NOT_A_CALL),
            Case("empty", _xml(b""), _NOT_A_CALL),
            Case("gzip-bomb", _xml(gzip.compress(b"<" * (10 * p.MiB))), _NOT_A_CALL),
        ),
    ),
    Kind(
        "nul-in-xml-rpc",
        "xml-rpc",
        "A NUL in a string argument, as a raw byte or a character reference (XML 1.0 cannot carry one).",
        (
            Case("raw-byte-name", _call_with_string("package_releases", b"de\x00mo"), "parse error"),
            Case("reference-name", _call_with_string("package_roles", b"de&#0;mo"), "parse error"),
            Case("raw-byte-user", _call_with_string("user_packages", b"owner\x00"), "parse error"),
            Case(
                "search-value",
                _xml(
                    "<methodCall><methodName>search</methodName><params><param><value><struct><member>"
                    "<name>name</name><value><string>de&#0;mo</string></value></member></struct></value>"
                    "</param></params></methodCall>"
                ),
                "parse error",
            ),
        ),
    ),
    Kind(
        "oversized-search",
        "xml-rpc",
        "A search of more values than it answers: each is a scan of a column (1,000 took 41 s on PostgreSQL).",
        (
            Case(
                "11-values-in-one-field",
                _search({"name": [f"n{i}" for i in range(11)]}),
                "spec: name has 11 values; at most 10 per field",
            ),
            Case(
                "21-values-in-all",
                _search({field: [f"v{i}" for i in range(7)] for field in ("name", "summary", "author")}),
                "spec: more than 20 values in all; search for fewer",
            ),
            Case(
                "201-characters",
                _search({"description": "x" * 201}),
                "spec: a description value is 201 characters long; at most 200 per value",
            ),
            Case(
                "1000-values",
                _search({"summary": [f"v{i}" for i in range(1000)]}),
                "spec: summary has 1000 values; at most 10 per field",
            ),
            Case(
                "2-values-in-each-of-12-fields",
                _search(
                    {
                        field: ["a", "b"]
                        for field in (
                            *("name", "version", "summary", "description", "keywords", "author", "author_email"),
                            *("maintainer", "maintainer_email", "home_page", "license", "download_url"),
                        )
                    }
                ),
                "spec: more than 20 values in all; search for fewer",
            ),
        ),
    ),
]


# --- Reads: URLs, query strings and headers -------------------------------------------


@dataclass(frozen=True)
class Read:
    """A request to an endpoint that reads, and the same request without the hostile part (``sound``).

    ``{file}`` and ``{sha256}`` in the URLs stand for a stored wheel's path and digest.
    """

    url: str
    sound: str
    headers: dict[str, str]
    method: str = "GET"
    sound_status: int = 200


def _get(url: str, sound: str, sound_status: int = 200, **headers: str) -> Callable[[], Read]:
    return lambda: Read(url, sound, headers, sound_status=sound_status)


def _post(url: str, sound: str, sound_status: int) -> Callable[[], Read]:
    return lambda: Read(url, sound, {}, "POST", sound_status)


_NUL_URL = "The URL contains a NUL character (%00)"
_OUT_OF_RANGE = "is out of range: in UTC it must fall between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z"

READ_KINDS = [
    Kind(
        "nul-in-url",
        "read",
        "A NUL (%00) in a project name, version, file path, time, cursor or filter, on every endpoint that reads one.",
        (
            Case("simple-project", _get("/simple/demo%00/", "/simple/demo/"), _NUL_URL),
            Case("simple-project-no-slash", _get("/simple/demo%00", "/simple/demo", 301), _NUL_URL),
            Case("simple-query", _get("/simple/?format=%00", "/simple/?format=json"), _NUL_URL),
            Case("snapshot-time", _get("/snapshot/2024%00/simple/", "/snapshot/2024-05-01/simple/"), _NUL_URL),
            Case(
                "snapshot-project",
                _get("/snapshot/2999-01-01/simple/demo%00/", "/snapshot/2999-01-01/simple/demo/"),
                _NUL_URL,
            ),
            Case("cooldown-duration", _get("/cooldown/3d%00/simple/", "/cooldown/3d/simple/"), _NUL_URL),
            Case("cooldown-project", _get("/cooldown/0s/simple/demo%00/", "/cooldown/0s/simple/demo/"), _NUL_URL),
            Case("legacy-json-name", _get("/pypi/demo%00/json", "/pypi/demo/json"), _NUL_URL),
            Case("legacy-json-version", _get("/pypi/demo/1.0%00/json", "/pypi/demo/1.0/json"), _NUL_URL),
            Case("api-project", _get("/api/v1/projects/demo%00/", "/api/v1/projects/demo/"), _NUL_URL),
            Case(
                "api-projects-prefix", _get("/api/v1/projects/?prefix=de%00", "/api/v1/projects/?prefix=de"), _NUL_URL
            ),
            Case("api-projects-text", _get("/api/v1/projects/?q=%00", "/api/v1/projects/?q=demo"), _NUL_URL),
            Case(
                "api-projects-cursor",
                _get("/api/v1/projects/?cursor=cD1k%00", "/api/v1/projects/?cursor=cD1k"),
                _NUL_URL,
            ),
            Case(
                "api-releases", _get("/api/v1/projects/demo%00/releases/", "/api/v1/projects/demo/releases/"), _NUL_URL
            ),
            Case(
                "api-releases-filter",
                _get("/api/v1/projects/demo/releases/?files=%00", "/api/v1/projects/demo/releases/?files=with"),
                _NUL_URL,
            ),
            Case(
                "api-releases-cursor",
                _get("/api/v1/projects/demo/releases/?cursor=%00", "/api/v1/projects/demo/releases/?order=created"),
                _NUL_URL,
            ),
            Case(
                "api-release-version",
                _get("/api/v1/projects/demo/releases/1.0%00/", "/api/v1/projects/demo/releases/1.0/"),
                _NUL_URL,
            ),
            Case(
                "api-yank-name",
                _post("/api/v1/projects/demo%00/releases/1.0/yank/", "/api/v1/projects/demo/releases/1.0/yank/", 401),
                _NUL_URL,
            ),
            Case("api-file", _get("/api/v1/files/{sha256}%00/", "/api/v1/files/{sha256}/"), _NUL_URL),
            Case("api-user", _get("/api/v1/users/owner%00/projects/", "/api/v1/users/owner/projects/"), _NUL_URL),
            Case(
                "api-user-cursor",
                _get("/api/v1/users/owner/projects/?cursor=%00", "/api/v1/users/owner/projects/?page_size=1"),
                _NUL_URL,
            ),
            Case("api-events-since", _get("/api/v1/events/?since=1%00", "/api/v1/events/?since=1"), _NUL_URL),
            Case(
                "api-events-page-size", _get("/api/v1/events/?page_size=%00", "/api/v1/events/?page_size=1"), _NUL_URL
            ),
            Case("packages-file", _get("/packages/{file}%00", "/packages/{file}"), _NUL_URL),
            Case("packages-metadata", _get("/packages/{file}%00.metadata", "/packages/{file}.metadata"), _NUL_URL),
            Case("admin-login-next", _get("/admin/login/?next=/admin/%00", "/admin/login/?next=/admin/"), _NUL_URL),
        ),
    ),
    Kind(
        "extreme-time",
        "read",
        "Snapshot times and cool-downs at the limits of what Python's datetime holds, once turned into UTC.",
        (
            Case(
                "year-1-east",
                _get("/snapshot/0001-01-01T00:00:00+05:00/simple/", "/snapshot/0001-01-01T00:00:00Z/simple/"),
                _OUT_OF_RANGE,
            ),
            Case(
                "year-1-east-project",
                _get("/snapshot/0001-01-01T00:00:00+05:00/simple/demo/", "/snapshot/0001-01-01T00:00:00Z/simple/demo/"),
                _OUT_OF_RANGE,
            ),
            Case(
                "year-9999-west",
                _get("/snapshot/9999-12-31T23:59:59-05:00/simple/", "/snapshot/9999-12-31T23:59:59Z/simple/"),
                _OUT_OF_RANGE,
            ),
            Case(
                "year-9999-west-project",
                _get("/snapshot/9999-12-31T23:59:59-05:00/simple/demo/", "/snapshot/9999-12-31T23:59:59Z/simple/demo/"),
                _OUT_OF_RANGE,
            ),
            Case(
                "unix-12-digits", _get("/snapshot/999999999999/simple/", "/snapshot/99999999999/simple/"), _OUT_OF_RANGE
            ),
            Case(
                "cooldown-overflow",
                _get("/cooldown/999999999w999999999d/simple/", "/cooldown/999999999d/simple/"),
                "is too long",
            ),
        ),
    ),
    Kind(
        "huge-range",
        "read",
        "A Range header of thousands of digits (Python reads numbers of at most 4,300).",
        (
            Case(
                "start-5000-digits",
                _get("/packages/{file}", "/packages/{file}", HTTP_RANGE="bytes=" + "9" * 5000 + "-"),
                "416 Requested Range Not Satisfiable",
                416,
            ),
            Case(
                "start-zeros-then-5000-digits",
                _get("/packages/{file}", "/packages/{file}", HTTP_RANGE="bytes=" + "0" * 10 + "9" * 5000 + "-"),
                "416 Requested Range Not Satisfiable",
                416,
            ),
        ),
    ),
]


KINDS: list[Kind] = [
    *FORM_KINDS,
    *FILENAME_KINDS,
    *DIGEST_KINDS,
    *ARCHIVE_KINDS,
    *METADATA_KINDS,
    *REQUEST_KINDS,
    *CREDENTIAL_KINDS,
    *API_KINDS,
    *XMLRPC_KINDS,
    *READ_KINDS,
    # Drawn by hypothesis (tests/hostile/test_properties.py); no fixed cases.
    Kind(
        "fuzzed-field",
        "form",
        "Any text or bytes in any field.",
        generated=FORM_EXAMPLES,
        property_test="test_any_value_in_any_field",
    ),
    Kind(
        "fuzzed-filename",
        "filename",
        "Any text, or a near miss of the real name, as the file name.",
        generated=FILENAME_EXAMPLES,
        property_test="test_any_filename",
    ),
    Kind(
        "mutated-archive",
        "archive",
        "A sound wheel cut short or with bytes changed.",
        generated=ARCHIVE_EXAMPLES,
        property_test="test_any_damage_to_a_wheel",
    ),
]


def kind(name: str) -> Kind:
    return next(each for each in KINDS if each.name == name)


def params(*categories: str) -> list:
    """pytest parameters for every fixed case of these categories, with ids ``<kind>/<case>``."""
    import pytest

    return [
        pytest.param(case, id=f"{each.name}/{case.id}")
        for each in KINDS
        if each.category in categories
        for case in each.cases
    ]
