"""The test distribution builders make archives that installers would accept."""

import base64
import hashlib
import tarfile
import zipfile
from email.parser import Parser

import pytest

from harness.dists import Metadata, build_sdist, build_wheel, wheel_tags


def sha256_record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")


def test_wheel_name_and_layout_follow_the_escaped_name(tmp_path):
    path = build_wheel(tmp_path, "Demo_Pkg.Extra", "1.0")
    assert path.name == "demo_pkg_extra-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [
            "demo_pkg_extra-1.0.dist-info/METADATA",
            "demo_pkg_extra-1.0.dist-info/RECORD",
            "demo_pkg_extra-1.0.dist-info/WHEEL",
            "demo_pkg_extra/__init__.py",
        ]
        assert archive.read("demo_pkg_extra/__init__.py") == b'__version__ = "1.0"\n'


def test_wheel_record_lists_every_file_with_its_hash_and_size(tmp_path):
    path = build_wheel(tmp_path, "demo", "2.0", module_body="x = 1\n")
    with zipfile.ZipFile(path) as archive:
        rows = [line.split(",") for line in archive.read("demo-2.0.dist-info/RECORD").decode().splitlines()]
        listed = {row[0] for row in rows}
        assert listed == set(archive.namelist())
        for member, digest, size in rows:
            if member.endswith("/RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = archive.read(member)
            assert digest == sha256_record_hash(data)
            assert int(size) == len(data)


def test_wheel_metadata_and_wheel_file(tmp_path):
    path = build_wheel(
        tmp_path,
        "demo",
        "1.0",
        requires_python=">=3.11",
        requires_dist=["six>=1", 'attrs; extra == "x"'],
        tag="py2.py3-none-any",
        extra_metadata=[("Provides-Extra", "x")],
    )
    assert path.name == "demo-1.0-py2.py3-none-any.whl"
    with zipfile.ZipFile(path) as archive:
        metadata = Parser().parsestr(archive.read("demo-1.0.dist-info/METADATA").decode())
        wheel = Parser().parsestr(archive.read("demo-1.0.dist-info/WHEEL").decode())
    assert metadata["Requires-Python"] == ">=3.11"
    assert metadata.get_all("Requires-Dist") == ["six>=1", 'attrs; extra == "x"']
    assert metadata["Provides-Extra"] == "x"
    assert wheel.get_all("Tag") == ["py2-none-any", "py3-none-any"]
    assert wheel["Root-Is-Purelib"] == "true"


def test_filename_name_changes_only_the_filename(tmp_path):
    path = build_wheel(tmp_path, "demo", "1.0", filename_name="other")
    assert path.name == "other-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path) as archive:
        assert "demo-1.0.dist-info/METADATA" in archive.namelist()


def test_builds_are_reproducible(tmp_path):
    first = build_wheel(tmp_path / "a", "demo", "1.0").read_bytes()
    assert build_wheel(tmp_path / "b", "demo", "1.0").read_bytes() == first
    first = build_sdist(tmp_path / "a", "demo", "1.0").read_bytes()
    assert build_sdist(tmp_path / "b", "demo", "1.0").read_bytes() == first


def test_sdist_has_one_top_directory_with_pkg_info(tmp_path):
    path = build_sdist(tmp_path, "Demo.Pkg", "1.0", requires_python=">=3.8")
    assert path.name == "demo_pkg-1.0.tar.gz"
    with tarfile.open(path) as archive:
        names = archive.getnames()
        pkg_info = archive.extractfile("demo_pkg-1.0/PKG-INFO").read().decode()
    assert {name.split("/")[0] for name in names} == {"demo_pkg-1.0"}
    assert "demo_pkg-1.0/pyproject.toml" in names
    assert "demo_pkg-1.0/demo_pkg/__init__.py" in names
    assert Parser().parsestr(pkg_info)["Requires-Python"] == ">=3.8"


def test_metadata_refuses_multi_line_values():
    with pytest.raises(ValueError, match="Summary"):
        Metadata("demo", "1.0", summary="two\nlines").text()


def test_wheel_tags_expand_compressed_sets():
    assert wheel_tags("cp311.cp312-abi3-manylinux1_x86_64.linux_x86_64") == [
        "cp311-abi3-manylinux1_x86_64",
        "cp311-abi3-linux_x86_64",
        "cp312-abi3-manylinux1_x86_64",
        "cp312-abi3-linux_x86_64",
    ]


def test_a_wheel_rebuilt_from_an_installed_distribution_holds_its_files_and_a_true_record(tmp_path):
    from importlib import metadata

    from harness.dists import wheel_of_installed

    installed = metadata.distribution("six")
    path = wheel_of_installed("six", tmp_path)
    assert path.name == f"six-{installed.version}-py2.py3-none-any.whl"
    dist_info = f"six-{installed.version}.dist-info"
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert "six.py" in names
        assert {f"{dist_info}/INSTALLER", f"{dist_info}/REQUESTED"}.isdisjoint(names)
        assert not any(name.endswith(".pyc") for name in names)
        assert archive.read(f"{dist_info}/METADATA").decode() == installed.read_text("METADATA")
        rows = [line.split(",") for line in archive.read(f"{dist_info}/RECORD").decode().splitlines()]
        assert {row[0] for row in rows} == names
        for member, digest, size in rows:
            if member != f"{dist_info}/RECORD":
                assert (digest, int(size)) == (sha256_record_hash(archive.read(member)), len(archive.read(member)))
