"""Core metadata 2.5 (PEP 794: Import-Name, Import-Namespace) and 2.6 (PEP 808: static
values beside Dynamic in an sdist), as current build backends write them.

The 2.5 wheel is built by a real build backend, uv's own (``uv build --offline`` with
``build-backend = "uv_build"``, which uv runs without installing anything), and its
form is what ``uv publish`` sends (``import_names`` / ``import_namespaces``). No backend
installed here writes 2.6 yet, so that sdist comes from the test builders.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from harness.dists import build_sdist, build_wheel
from packages_app.models import File, Release
from packages_app.storage import package_storage
from tests.e2e.helpers import isolated_environment
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, post_upload, stored_files, twine_fields

PASSWORD = "correct horse battery staple"
UV = Path(sysconfig.get_path("scripts")) / "uv"


@pytest.fixture
def owner_auth(db):
    UserFactory(username="owner")
    return basic_auth("owner", PASSWORD)


def build_with_uv(source: Path, home: Path) -> tuple[Path, Path]:
    """``uv build`` of a project using uv's build backend; returns (wheel, sdist)."""
    result = subprocess.run(
        [str(UV), "--no-config", "build", "--offline", "--no-python-downloads", "--python", sys.executable],
        cwd=source,
        env={**isolated_environment(home), "UV_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (source / "dist").glob("*.whl")
    (sdist,) = (source / "dist").glob("*.tar.gz")
    return wheel, sdist


def uv_project(root: Path, name: str, version: str, extra: str) -> Path:
    module = name.replace("-", "_")
    (root / "src" / module).mkdir(parents=True)
    (root / "src" / module / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "{version}"\ndescription = "Built by uv"\n{extra}\n'
        '[build-system]\nrequires = ["uv_build>=0.8,<1"]\nbuild-backend = "uv_build"\n'
    )
    return root


def metadata_of(wheel: Path) -> str:
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        (name,) = [member for member in archive.namelist() if member.endswith(".dist-info/METADATA")]
        return archive.read(name).decode()


def test_a_metadata_2_5_wheel_built_by_uv_is_accepted_with_its_import_names(client, owner_auth, tmp_path):
    source = uv_project(
        tmp_path / "src", "acme-tool", "1.0", 'import-names = ["acme_tool", "_acme_speedups; private"]\n'
    )
    (source / "src" / "acme_tool" / "_acme_speedups.py").write_text("")
    wheel, sdist = build_with_uv(source, tmp_path / "home")
    assert "Metadata-Version: 2.5" in metadata_of(wheel)
    assert "Import-Name: acme_tool" in metadata_of(wheel)
    import_names = ["acme_tool", "_acme_speedups; private"]
    for path in (wheel, sdist):
        fields = twine_fields(path, "acme-tool", "1.0", metadata_version="2.5", import_names=import_names)
        response = post_upload(client, fields, owner_auth)
        assert response.status_code == 200, response.content
    release = Release.objects.get()
    assert (release.metadata_version, release.import_names, release.import_namespaces) == ("2.5", import_names, [])
    assert File.objects.count() == 2
    # Installers read the import names from the PEP 658 file served beside the wheel.
    wheel_row = File.objects.get(packagetype="bdist_wheel")
    with package_storage().open(wheel_row.metadata_path) as served:
        assert b"Import-Name: acme_tool" in served.read()
    api = client.get("/api/v1/projects/acme-tool/releases/1.0/").json()
    assert (api["import_names"], api["import_namespaces"]) == (import_names, [])


def test_import_namespaces_are_kept(client, owner_auth, tmp_path):
    wheel = build_wheel(
        tmp_path,
        "acme-mgmt-search",
        "1.0",
        metadata_version="2.5",
        extra_metadata=[
            ("Import-Name", "acme.mgmt.search"),
            ("Import-Namespace", "acme"),
            ("Import-Namespace", "acme.mgmt"),
        ],
    )
    fields = twine_fields(
        wheel,
        "acme-mgmt-search",
        "1.0",
        metadata_version="2.5",
        import_names=["acme.mgmt.search"],
        import_namespaces=["acme", "acme.mgmt"],
    )
    assert post_upload(client, fields, owner_auth).status_code == 200
    release = Release.objects.get()
    assert (release.import_names, release.import_namespaces) == (["acme.mgmt.search"], ["acme", "acme.mgmt"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"import_names": ["acme-tool"]}, "'acme-tool' is invalid for 'import-name'"),
        ({"import_names": ["class"]}, "'class' is a keyword"),
        ({"import_names": ["acme; public"]}, "the only valid option is 'private'"),
        ({"import_names": ["acme"], "metadata_version": "2.4"}, "import-name introduced in metadata version 2.5"),
        (
            {"import_names": ["acme"], "import_namespaces": ["acme"]},
            "'acme' is both an Import-Name and an Import-Namespace",
        ),
    ],
)
def test_invalid_import_names_are_refused(client, owner_auth, tmp_path, overrides, message):
    wheel = build_wheel(tmp_path, "acme", "1.0", metadata_version="2.5")
    fields = twine_fields(wheel, "acme", "1.0", **{"metadata_version": "2.5", **overrides})
    response = post_upload(client, fields, owner_auth)
    assert response.status_code == 400, response.content
    assert message in response.content.decode()
    assert stored_files() == []


def test_a_metadata_2_6_sdist_with_static_values_beside_dynamic_is_accepted(client, owner_auth, tmp_path):
    """PEP 808: a field may be static and listed in Dynamic; the wheel may only add to it."""
    extra = [("Dynamic", "Requires-Dist"), ("Dynamic", "Classifier")]
    sdist = build_sdist(
        tmp_path, "torch-ext", "1.0", metadata_version="2.6", requires_dist=["torch"], extra_metadata=extra
    )
    wheel = build_wheel(tmp_path, "torch-ext", "1.0", metadata_version="2.6", requires_dist=["torch", "torch==2.8.0"])
    for path, requires in ((sdist, ["torch"]), (wheel, ["torch", "torch==2.8.0"])):
        fields = twine_fields(path, "torch-ext", "1.0", metadata_version="2.6", requires_dist=requires)
        if path == sdist:
            fields["dynamic"] = ["Requires-Dist", "Classifier"]
        response = post_upload(client, fields, owner_auth)
        assert response.status_code == 200, response.content
    release = Release.objects.get()
    assert (release.metadata_version, release.requires_dist, release.dynamic) == (
        "2.6",
        ["torch"],
        ["Requires-Dist", "Classifier"],
    )


def test_a_metadata_version_packaging_does_not_know_is_refused(client, owner_auth, tmp_path):
    wheel = build_wheel(tmp_path, "acme", "1.0", metadata_version="2.7")
    response = post_upload(client, twine_fields(wheel, "acme", "1.0", metadata_version="2.7"), owner_auth)
    assert response.status_code == 400
    assert "'2.7' is not a valid metadata version" in response.content.decode()
