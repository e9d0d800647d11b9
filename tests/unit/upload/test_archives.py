import gzip
import io
import os
import stat
import tarfile
import zipfile

import pytest

from packages_app.upload import archives
from packages_app.upload.archives import inspect_distribution, rules
from packages_app.upload.errors import UploadError
from tests.hostile.payloads import (
    SDIST,
    WHEEL,
    central_entries,
    metadata,
    patch_central,
    sdist,
    tar_dir,
    tar_file,
    tar_gz_bytes,
    tar_link,
    wheel,
    wheel_members,
    zip_bytes,
)

ZIP_SDIST = "demo-1.0.zip"
EGG = "demo-1.0-py3.11.egg"
DUMB_ZIP = "demo-1.0.linux-x86_64.zip"
DUMB_TAR = "demo-1.0.linux-x86_64.tar.gz"
INVALID = "Invalid distribution file. "
# Metadata with a body after its headers: handed back whole, not only the headers.
DESCRIBED = metadata() + b"\nLong description.\n"


# --- Archive builders ------------------------------------------------------
# The wheel, sdist, zip and tar builders are the hostile suite's (tests/hostile/payloads.py);
# these are the archives only this module needs.


def zip_sdist(top="demo-1.0", extra=()):
    return zip_bytes([(f"{top}/", b""), (f"{top}/PKG-INFO", metadata()), (f"{top}/setup.py", b""), *extra])


def egg(pkg_info=None):
    return zip_bytes([("demo/__init__.py", b""), ("EGG-INFO/PKG-INFO", metadata() if pkg_info is None else pkg_info)])


def overlapping_zip():
    data = zip_bytes([("a.txt", b"a" * 100), ("b.txt", b"b" * 100)], zipfile.ZIP_STORED)
    return patch_central(data, 1, 42, "<L", 0)


def zip_with_hidden_bytes():
    data = zip_bytes([("a.txt", b"a" * 100), ("b.txt", b"b" * 100)], zipfile.ZIP_STORED)
    return patch_central(data, 0, 20, "<L", 90)


def zip_with_renamed_central_entry():
    data = zip_bytes([("a.txt", b"a")])
    patched = bytearray(data)
    start = central_entries(data)[0] + 46
    patched[start : start + 5] = b"b.txt"
    return bytes(patched)


def zip_with_nul_in_name():
    return zip_bytes([("aXb.txt", b"a")]).replace(b"aXb.txt", b"a\x00b.txt")


def zip_symlink():
    info = zipfile.ZipInfo("demo-1.0/link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return zip_bytes([(info, b"/etc/passwd")])


def wheel_with_data_descriptors():
    """zipfile writes data descriptors after each member when it cannot seek back."""

    class Unseekable(io.RawIOBase):
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, chunk):
            self.data += chunk
            return len(chunk)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in wheel_members():
            archive.writestr(name, data)
    return bytes(sink.data)


def zip_tar_polyglot():
    """A zip whose first 512 bytes are also a valid tar header (the member name carries the tar fields)."""

    def build(name):
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        return zip_bytes([(info, b"x")], zipfile.ZIP_STORED)

    fields = bytearray(b"a" * 600)  # name byte i sits at file offset 30 + i

    def put(offset, value):
        fields[offset - 30 : offset - 30 + len(value)] = value

    # Octal fields end in a space, not NUL: zipfile cuts member names at a NUL.
    tar_fields = {
        100: b"0000644 ",  # mode
        108: b"0000000 ",  # uid
        116: b"0000000 ",  # gid
        124: b"00000000000 ",  # size
        136: b"00000000000 ",  # mtime
        148: b" " * 8,  # the checksum is summed with its own field as spaces
        156: b"0",  # regular file
        329: b" " * 16,  # device numbers
    }
    for offset, value in tar_fields.items():
        put(offset, value)
    put(148, b"%07o " % sum(build(fields.decode())[:512]))
    data = build(fields.decode())
    tarfile.TarInfo.frombuf(data[:512], "utf-8", "surrogateescape")  # really a tar header
    return data


# --- Helpers ---------------------------------------------------------------


def inspect(tmp_path, filename, packagetype, data):
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    return inspect_distribution(path, filename, packagetype)


def rejection(tmp_path, filename, packagetype, data):
    with pytest.raises(UploadError) as excinfo:
        inspect(tmp_path, filename, packagetype, data)
    assert excinfo.value.status == 400
    return excinfo.value.message


# --- Accepted files --------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "packagetype", "build", "expected"),
    [
        pytest.param(WHEEL, "bdist_wheel", wheel, metadata(), id="wheel"),
        pytest.param(WHEEL, "bdist_wheel", lambda: wheel(meta=DESCRIBED), DESCRIBED, id="wheel-description-body"),
        pytest.param(
            "My_Pkg-1.0-py3-none-any.whl",
            "bdist_wheel",
            lambda: wheel(dist_info="my.pkg-1.0.0.dist-info", meta=metadata("My.Pkg", "1.0.0")),
            metadata("My.Pkg", "1.0.0"),
            id="wheel-dist-info-spelled-differently",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(extra=[("demo-1.0.dist-info/entry_points.txt", b"[console_scripts]\nDemo = demo:main\n")]),
            metadata(),
            id="wheel-entry-points",
        ),
        pytest.param(WHEEL, "bdist_wheel", wheel_with_data_descriptors, metadata(), id="wheel-data-descriptors"),
        pytest.param(SDIST, "sdist", sdist, metadata(), id="sdist"),
        pytest.param(SDIST, "sdist", lambda: sdist(pkg_info=DESCRIBED), DESCRIBED, id="sdist-description-body"),
        pytest.param(SDIST, "sdist", lambda: sdist(tarfile.GNU_FORMAT), metadata(), id="sdist-gnu-format"),
        pytest.param(SDIST, "sdist", lambda: sdist(top="./demo-1.0"), metadata(), id="sdist-dot-prefix"),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(
                extra=[
                    tar_dir("demo-1.0/docs"),
                    tar_link("demo-1.0/docs/README", "../PKG-INFO"),
                    tar_link("demo-1.0/COPY", "demo-1.0/PKG-INFO", tarfile.LNKTYPE),
                ]
            ),
            metadata(),
            id="sdist-links-inside",
        ),
        pytest.param(ZIP_SDIST, "sdist", zip_sdist, metadata(), id="zip-sdist"),
        pytest.param(EGG, "bdist_egg", egg, metadata(), id="egg"),
        pytest.param(DUMB_ZIP, "bdist_dumb", lambda: zip_bytes([("usr/lib/demo.py", b"")]), None, id="dumb-zip"),
        pytest.param(DUMB_TAR, "bdist_dumb", lambda: tar_gz_bytes([tar_file("usr/demo.py")]), None, id="dumb-tar"),
        pytest.param("demo-1.0.win32.exe", "bdist_wininst", lambda: b"MZ not inspected", None, id="wininst"),
        pytest.param("demo-1.0.msi", "bdist_msi", lambda: b"not inspected", None, id="msi"),
        pytest.param("demo-1.0-1.noarch.rpm", "bdist_rpm", lambda: b"not inspected", None, id="rpm"),
        pytest.param("demo-1.0.dmg", "bdist_dmg", lambda: b"not inspected", None, id="dmg"),
    ],
)
def test_accepts(tmp_path, filename, packagetype, build, expected):
    assert inspect(tmp_path, filename, packagetype, build()) == expected


# --- Rejected files --------------------------------------------------------

W = f"Wheel '{WHEEL}'"
S = f"Sdist '{SDIST}'"


@pytest.mark.parametrize(
    ("filename", "packagetype", "build", "message"),
    [
        # Filename and package type
        pytest.param(WHEEL, "sdist", wheel, f"'{WHEEL}' is not a valid filename for package type 'sdist'", id="ext"),
        pytest.param(SDIST, "bdist_wheel", sdist, f"'{SDIST}' is not a valid filename for", id="wheel-ext"),
        pytest.param(WHEEL, "bdist_other", wheel, f"'{WHEEL}' is not a valid filename for", id="unknown-type"),
        pytest.param("demo.whl", "bdist_wheel", wheel, "Invalid wheel filename", id="wheel-filename"),
        # Archive format
        pytest.param(WHEEL, "bdist_wheel", sdist, f"'{WHEEL}' is not a zip archive.", id="wheel-not-zip"),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: b"PK\x03\x04" + bytes(100),
            f"'{WHEEL}' is not a valid zip archive",
            id="bad-zip",
        ),
        pytest.param(SDIST, "sdist", wheel, f"'{SDIST}' is not a gzip-compressed tar archive.", id="sdist-not-gzip"),
        pytest.param(
            SDIST,
            "sdist",
            lambda: gzip.compress(b"just text"),
            f"'{SDIST}' is not a valid gzip-compressed",
            id="gzip-not-tar",
        ),
        pytest.param(
            SDIST, "sdist", lambda: sdist()[:200], f"'{SDIST}' is not a valid gzip-compressed", id="truncated-gzip"
        ),
        pytest.param(EGG, "bdist_egg", zip_tar_polyglot, f"'{EGG}' is both a zip and a tar archive.", id="zip-tar"),
        pytest.param(
            SDIST, "sdist", lambda: sdist() + wheel(), f"'{SDIST}' is both a zip and a tar archive.", id="tar-zip"
        ),
        # Zip structure and members
        pytest.param(
            WHEEL, "bdist_wheel", lambda: zip_bytes([("a", b"")]) + wheel(), "Archive has data before", id="prepended"
        ),
        pytest.param(DUMB_ZIP, "bdist_dumb", overlapping_zip, "Archive members overlap.", id="overlap"),
        pytest.param(DUMB_ZIP, "bdist_dumb", zip_with_hidden_bytes, "Archive has data between", id="hidden-bytes"),
        pytest.param(
            DUMB_ZIP,
            "bdist_dumb",
            zip_with_renamed_central_entry,
            "Archive member 'b.txt' has a different name in its local header.",
            id="local-name-differs",
        ),
        pytest.param(DUMB_ZIP, "bdist_dumb", lambda: zip_bytes([]), f"'{DUMB_ZIP}' is an empty zip", id="empty-zip"),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: zip_bytes(wheel_members(), zipfile.ZIP_BZIP2),
            "File does not use a supported compression type",
            id="bzip2",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: patch_central(wheel(), 0, 8, "<H", 1),
            "Archive member 'demo/__init__.py' is encrypted.",
            id="encrypted",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(extra=[("demo/__init__.py", b"evil")]),
            "Archive contains more than one member named 'demo/__init__.py'.",
            id="duplicate",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(extra=[("./demo//__init__.py", b"evil")]),
            "Archive contains more than one member named './demo//__init__.py'.",
            id="duplicate-spelled-differently",
        ),
        pytest.param(
            DUMB_ZIP, "bdist_dumb", zip_symlink, "Archive member 'demo-1.0/link' is a symbolic link.", id="zip-symlink"
        ),
        pytest.param(
            DUMB_ZIP,
            "bdist_dumb",
            zip_with_nul_in_name,
            "Archive member 'a\\x00b.txt' contains a control character.",
            id="zip-nul",
        ),
        # Wheel contents
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(drop=["METADATA"]),
            f"{W} does not contain the required METADATA file: demo-1.0.dist-info/METADATA",
            id="no-metadata",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(drop=["WHEEL"]),
            f"{W} does not contain the required WHEEL file: demo-1.0.dist-info/WHEEL",
            id="no-wheel",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(drop=["RECORD"]),
            f"{W} does not contain the required RECORD file: demo-1.0.dist-info/RECORD",
            id="no-record",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(dist_info="other-1.0.dist-info"),
            f"{W} does not contain the required METADATA file: demo-1.0.dist-info/METADATA",
            id="other-project-dist-info",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(dist_info="demo-2.0.dist-info"),
            f"{W} does not contain the required METADATA file: demo-1.0.dist-info/METADATA",
            id="other-version-dist-info",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(extra=[("other-1.0.dist-info/METADATA", metadata("other"))]),
            f"{W} contains more than one .dist-info directory: demo-1.0.dist-info, other-1.0.dist-info",
            id="two-dist-infos",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(extra=[("demo-1.0.dist-info/entry_points.txt", b"console_scripts\ndemo = demo:main\n")]),
            f"{W} has invalid entry points defined in the entry_points.txt file.",
            id="entry-points-no-section",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(extra=[("demo-1.0.dist-info/entry_points.txt", b"[a]\nx = 1\nx = 2\n")]),
            f"{W} has invalid entry points defined in the entry_points.txt file.",
            id="entry-points-duplicate",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(meta=metadata(name="other")),
            f"{W} is for project 'demo', but its METADATA has Name 'other'.",
            id="metadata-name",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(meta=metadata(version="2.0")),
            f"{W} is for version '1.0', but its METADATA has Version '2.0'.",
            id="metadata-version",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(meta=metadata(version="one")),
            "METADATA has an invalid Version 'one'.",
            id="metadata-bad-version",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(meta=b"Metadata-Version: 2.1\nVersion: 1.0\n"),
            "METADATA has no single Name field.",
            id="metadata-no-name",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(meta=b"Metadata-Version: 2.1\nName: demo\nName: x\nVersion: 1.0\n"),
            "METADATA has no single Name field.",
            id="metadata-two-names",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(meta=b"Name: demo\nVersion: 1.0\nSummary: caf\xe9\n"),
            "METADATA is not valid UTF-8.",
            id="metadata-latin1",
        ),
        pytest.param(
            WHEEL,
            "bdist_wheel",
            lambda: wheel(meta=metadata() + b"\x00\x01\x02"),
            "METADATA contains binary data.",
            id="metadata-binary",
        ),
        # Tar structure and members
        pytest.param(SDIST, "sdist", lambda: tar_gz_bytes([]), f"{S} is empty.", id="empty-tar"),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("demo-1.0/pyproject.toml")]),
            "Archive contains more than one member named 'demo-1.0/pyproject.toml'.",
            id="tar-duplicate",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("/etc/passwd")]),
            "Archive member '/etc/passwd' has an absolute path.",
            id="tar-absolute",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("C:/evil")]),
            "Archive member 'C:/evil' has an absolute path.",
            id="tar-drive",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("demo-1.0/../../evil")]),
            "Archive member 'demo-1.0/../../evil' contains a '..' path segment.",
            id="tar-dotdot",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("demo-1.0\\..\\evil")]),
            "Archive member 'demo-1.0\\\\..\\\\evil' contains a backslash.",
            id="tar-backslash",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("demo-1.0/evil\x1b[2J")]),
            "Archive member 'demo-1.0/evil\\x1b[2J' contains a control character.",
            id="tar-control",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(tarfile.GNU_FORMAT, extra=[tar_file("demo-1.0/sparse", type=tarfile.GNUTYPE_SPARSE)]),
            "Archive member 'demo-1.0/sparse' is a sparse file.",
            id="tar-sparse",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("demo-1.0/tty", type=tarfile.CHRTYPE)]),
            "Archive member 'demo-1.0/tty' is a device or FIFO.",
            id="tar-chr",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("demo-1.0/disk", type=tarfile.BLKTYPE)]),
            "Archive member 'demo-1.0/disk' is a device or FIFO.",
            id="tar-blk",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("demo-1.0/pipe", type=tarfile.FIFOTYPE)]),
            "Archive member 'demo-1.0/pipe' is a device or FIFO.",
            id="tar-fifo",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("demo-1.0/odd", type=b"Z")]),
            "Archive member 'demo-1.0/odd' has an unsupported type b'Z'.",
            id="tar-unknown-type",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_link("demo-1.0/passwd", "/etc/passwd")]),
            "Archive member 'demo-1.0/passwd' links to '/etc/passwd', outside the archive.",
            id="symlink-absolute",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_link("demo-1.0/up", "../../etc/passwd")]),
            "Archive member 'demo-1.0/up' links to '../../etc/passwd', outside the archive.",
            id="symlink-escapes-archive",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_link("demo-1.0/up", "../other")]),
            "Archive member 'demo-1.0/up' links to '../other', outside 'demo-1.0'.",
            id="symlink-escapes-top",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_link("demo-1.0/hard", "/etc/passwd", tarfile.LNKTYPE)]),
            "Archive member 'demo-1.0/hard' links to '/etc/passwd', outside the archive.",
            id="hardlink-absolute",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_link("demo-1.0/hard", "demo-1.0/../../x", tarfile.LNKTYPE)]),
            "Archive member 'demo-1.0/hard' links to 'demo-1.0/../../x', outside the archive.",
            id="hardlink-escapes-archive",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_link("demo-1.0/hard", "other/x", tarfile.LNKTYPE)]),
            "Archive member 'demo-1.0/hard' links to 'other/x', outside 'demo-1.0'.",
            id="hardlink-escapes-top",
        ),
        # Sdist contents
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("other-1.0/setup.py")]),
            f"{S} must contain exactly one top-level directory, not 'demo-1.0' and 'other-1.0'.",
            id="two-top-dirs",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: tar_gz_bytes([tar_file("PKG-INFO", metadata())]),
            f"{S} has a file outside its top-level directory: 'PKG-INFO'",
            id="top-level-file",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: tar_gz_bytes([tar_dir("demo-1.0"), tar_file("demo-1.0/src/PKG-INFO", metadata())]),
            f"{S} does not contain the required PKG-INFO file: demo-1.0/PKG-INFO",
            id="no-pkg-info",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: tar_gz_bytes([tar_dir("demo-1.0"), tar_link("demo-1.0/PKG-INFO", "setup.py")]),
            f"{S} has a PKG-INFO that is not a regular file.",
            id="pkg-info-symlink",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(pkg_info=metadata(name="other")),
            f"{S} is for project 'demo', but its PKG-INFO has Name 'other'.",
            id="pkg-info-name",
        ),
        pytest.param(
            SDIST,
            "sdist",
            lambda: sdist(pkg_info=metadata(version="1.1")),
            f"{S} is for version '1.0', but its PKG-INFO has Version '1.1'.",
            id="pkg-info-version",
        ),
        pytest.param(
            SDIST, "sdist", lambda: sdist(pkg_info=b"\xff\xfe"), "PKG-INFO is not valid UTF-8.", id="pkg-info-binary"
        ),
        # Zip sdists, eggs and dumb binaries
        pytest.param(
            ZIP_SDIST,
            "sdist",
            lambda: zip_sdist(extra=[("other/setup.py", b"")]),
            f"Sdist '{ZIP_SDIST}' must contain exactly one top-level directory.",
            id="zip-sdist-two-tops",
        ),
        pytest.param(
            ZIP_SDIST,
            "sdist",
            lambda: zip_bytes([("demo-1.0/setup.py", b"")]),
            f"Sdist '{ZIP_SDIST}' does not contain the required PKG-INFO file: demo-1.0/PKG-INFO",
            id="zip-sdist-no-pkg-info",
        ),
        pytest.param(
            ZIP_SDIST,
            "sdist",
            lambda: zip_bytes([("PKG-INFO", metadata())]),
            f"Sdist '{ZIP_SDIST}' has a file outside its top-level directory: 'PKG-INFO'",
            id="zip-sdist-top-level-file",
        ),
        pytest.param(
            EGG,
            "bdist_egg",
            lambda: zip_bytes([("demo/__init__.py", b"")]),
            f"Egg '{EGG}' does not contain the required PKG-INFO file: EGG-INFO/PKG-INFO",
            id="egg-no-pkg-info",
        ),
        pytest.param(EGG, "bdist_egg", lambda: egg(pkg_info=b"\x00"), "PKG-INFO contains binary data.", id="egg-bin"),
        pytest.param(
            DUMB_ZIP,
            "bdist_dumb",
            lambda: zip_bytes([("/usr/lib/demo.py", b"")]),
            "Archive member '/usr/lib/demo.py' has an absolute path.",
            id="dumb-zip-absolute",
        ),
        pytest.param(
            DUMB_ZIP,
            "bdist_dumb",
            lambda: zip_bytes([("c:evil.py", b"")]),
            "Archive member 'c:evil.py' has an absolute path.",
            id="dumb-zip-drive",
        ),
        pytest.param(
            DUMB_ZIP,
            "bdist_dumb",
            lambda: zip_bytes([("a/../../evil.py", b"")]),
            "Archive member 'a/../../evil.py' contains a '..' path segment.",
            id="dumb-zip-dotdot",
        ),
        pytest.param(
            DUMB_ZIP,
            "bdist_dumb",
            lambda: zip_bytes([("a\\evil.py", b"")]),
            "Archive member 'a\\\\evil.py' contains a backslash.",
            id="dumb-zip-backslash",
        ),
        pytest.param(
            DUMB_TAR,
            "bdist_dumb",
            lambda: tar_gz_bytes([tar_file("usr/demo.py"), tar_file("usr/tty", type=tarfile.CHRTYPE)]),
            "Archive member 'usr/tty' is a device or FIFO.",
            id="dumb-tar-device",
        ),
        pytest.param(DUMB_TAR, "bdist_dumb", wheel, f"'{DUMB_TAR}' is not a gzip-compressed", id="dumb-tar-is-zip"),
        pytest.param("demo-1.0.exe", "bdist_dumb", wheel, "'demo-1.0.exe' is not a valid filename for", id="dumb-exe"),
    ],
)
def test_rejects(tmp_path, filename, packagetype, build, message):
    assert rejection(tmp_path, filename, packagetype, build()).startswith(INVALID + message)


# --- Size limits -----------------------------------------------------------


def zeros(size):
    return bytes(size)


@pytest.mark.parametrize(
    ("limits", "filename", "packagetype", "build", "message"),
    [
        pytest.param(
            {"COMPRESSION_RATIO_THRESHOLD": 1_000_000},
            WHEEL,
            "bdist_wheel",
            lambda: wheel(extra=[("demo/zeros.bin", zeros(2_000_000))]),
            "File exceeds compression ratio of 50.",
            id="zip-ratio",
        ),
        pytest.param(
            {"COMPRESSION_RATIO_THRESHOLD": 1_000_000},
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("demo-1.0/zeros.bin", zeros(2_000_000))]),
            "File exceeds compression ratio of 50.",
            id="tar-ratio",
        ),
        pytest.param(
            {"MAX_UNCOMPRESSED_SIZE": 20_000},
            WHEEL,
            "bdist_wheel",
            lambda: wheel(extra=[("demo/random.bin", os.urandom(30_000))]),
            "File is larger than 20000 bytes when uncompressed.",
            id="zip-total",
        ),
        pytest.param(
            {"MAX_UNCOMPRESSED_SIZE": 20_000},
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("demo-1.0/random.bin", os.urandom(30_000))]),
            "File is larger than 20000 bytes when uncompressed.",
            id="tar-total",
        ),
        pytest.param(
            {"MAX_MEMBERS": 3},
            WHEEL,
            "bdist_wheel",
            wheel,
            "Archive has more than 3 members.",
            id="zip-members",
        ),
        pytest.param(
            {"MAX_MEMBERS": 3},
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("demo-1.0/README")]),
            "Archive has more than 3 members.",
            id="tar-members",
        ),
        pytest.param(
            {"MAX_METADATA_SIZE": 100},
            WHEEL,
            "bdist_wheel",
            lambda: wheel(meta=metadata() + b"x" * 100),
            "METADATA is larger than 100 bytes.",
            id="metadata-size",
        ),
        pytest.param(
            {"MAX_METADATA_SIZE": 100},
            SDIST,
            "sdist",
            lambda: sdist(pkg_info=metadata() + b"x" * 100),
            "PKG-INFO is larger than 100 bytes.",
            id="pkg-info-size",
        ),
        pytest.param(
            {"MAX_METADATA_SIZE": 1024},
            SDIST,
            "sdist",
            lambda: sdist(extra=[tar_file("demo-1.0/README", pax_headers={"comment": "x" * 5000})]),
            "Tar archive has a header larger than 1024 bytes.",
            id="pax-header-size",
        ),
    ],
)
def test_size_limits(monkeypatch, tmp_path, limits, filename, packagetype, build, message):
    data = build()
    for name, value in limits.items():
        monkeypatch.setattr(rules, name, value)
    assert rejection(tmp_path, filename, packagetype, data).startswith(INVALID + message)


def test_real_zip_bomb_is_rejected(tmp_path):
    # ~70 MiB of zeros deflates to ~70 KB: well past the 64 MiB threshold and the 50x ratio.
    data = wheel(extra=[("demo/zeros.bin", zeros(70 * archives.MiB))])
    message = rejection(tmp_path, WHEEL, "bdist_wheel", data)
    assert message == INVALID + "File exceeds compression ratio of 50."


def test_limits_are_the_documented_values():
    assert rules.COMPRESSION_RATIO_THRESHOLD == 64 * 1024 * 1024
    assert rules.MAX_COMPRESSION_RATIO == 50
    assert rules.MAX_UNCOMPRESSED_SIZE == 4 * 1024**3
    assert rules.MAX_MEMBERS == 100_000
    assert rules.MAX_METADATA_SIZE == 16 * 1024 * 1024


def test_large_but_incompressible_member_is_fine(monkeypatch, tmp_path):
    monkeypatch.setattr(rules, "COMPRESSION_RATIO_THRESHOLD", 10_000)
    data = wheel(extra=[("demo/random.bin", os.urandom(50_000))])
    assert inspect(tmp_path, WHEEL, "bdist_wheel", data) == metadata()


def test_metadata_exactly_at_the_limit_is_read(monkeypatch, tmp_path):
    meta = metadata().ljust(300, b"x")
    monkeypatch.setattr(rules, "MAX_METADATA_SIZE", 300)
    assert inspect(tmp_path, WHEEL, "bdist_wheel", wheel(meta=meta)) == meta


def test_legacy_sdist_name_is_left_to_the_importer(tmp_path):
    """Uploads are held to PEP 625 before this stage; old sdists keep their names."""
    path = tmp_path / "demo-2004d.tar.gz"
    pkg_info = b"Metadata-Version: 1.0\nName: demo\nVersion: 2004d\n"
    path.write_bytes(sdist(top="demo-2004d", pkg_info=pkg_info))
    assert b"Version: 2004d" in archives.inspect_distribution(path, path.name, "sdist")
