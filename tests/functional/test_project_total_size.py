"""``Project.total_size``: the running total of a project's file sizes the quota check reads,
kept by every service that adds or removes files, and filled by migration 0018 for the
files there before it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from harness.dists import build_sdist, build_wheel
from packages_app.models import File, Project, Release, RoleName
from packages_app.services import files as file_services
from packages_app.services import projects, releases, roles, tokens
from packages_app.services import quotas as quota_services
from packages_app.services import retention as retention_services
from tests.factories import FileFactory, ReleaseFactory, UserFactory
from tests.functional.migrations import migrate_to, migrated_back_to
from tests.functional.upload_client import basic_auth, post_upload, stored_files, twine_fields


def summed(project: Project) -> int:
    return File.objects.filter(release__project=project).aggregate(total=Sum("size"))["total"] or 0


def kept(project: Project) -> int:
    return Project.objects.get(pk=project.pk).total_size


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def auth(alice):
    return basic_auth("__token__", tokens.create_token(alice, name="ci")[1])


def upload(client, tmp_path, auth, name: str, version: str, *, sdist: bool = False, **options):
    directory = tmp_path / f"{name}-{version}-{sdist}"
    directory.mkdir(parents=True)
    path = (build_sdist if sdist else build_wheel)(directory, name, version, **options)
    return post_upload(client, twine_fields(path, name, version), auth), path.stat().st_size


def test_uploads_deletes_and_retention_keep_it_equal_to_the_sum(client, tmp_path, alice, auth):
    sizes = []
    for version, sdist in [("1.0", False), ("1.0", True), ("2.0.dev1", False), ("2.0.dev2", False), ("2.0", False)]:
        response, size = upload(client, tmp_path, auth, "app", version, sdist=sdist)
        assert response.status_code == 200, response.content
        sizes.append(size)
    project = Project.objects.get(name="app")
    assert kept(project) == summed(project) == sum(sizes)

    # The identical file again is no new file, and a refused one adds nothing.
    assert upload(client, tmp_path / "again", auth, "app", "9.0")[0].status_code == 200
    before = kept(project)
    wheel_dir = tmp_path / "again" / "app-9.0-False"
    same = next(wheel_dir.iterdir())
    assert post_upload(client, twine_fields(same, "app", "9.0"), auth).status_code == 200
    clash = upload(client, tmp_path / "clash", auth, "app", "2.0", module_body="x = 1\n")[0]
    assert clash.status_code == 400, clash.content  # the name taken by other bytes
    assert kept(project) == before == summed(project)

    file_services.delete_file(File.objects.get(filename="app-1.0.tar.gz"), user=alice)
    assert kept(project) == summed(project)
    releases.delete_release(Release.objects.get(project=project, version="9.0"), user=alice)
    assert kept(project) == summed(project)

    retention_services.add_policy(project, dev=True, keep_newest=0)
    deleted = retention_services.apply(project)
    assert {item.version for item in deleted} == {"2.0.dev1", "2.0.dev2"}
    assert kept(project) == summed(project) > 0
    releases.delete_releases(project, list(project.releases.values_list("pk", flat=True)), user=alice)
    assert kept(project) == summed(project) == 0


def test_the_quota_still_refuses_from_the_running_total(client, tmp_path, alice, auth):
    project = projects.create_project("app")
    roles.grant_role(project, alice, RoleName.OWNER)
    response, size = upload(client, tmp_path, auth, "app", "1.0")
    assert response.status_code == 200
    quota_services.set_project_quota(project, 2 * size + 100)
    assert upload(client, tmp_path, auth, "app", "2.0")[0].status_code == 200
    response, _ = upload(client, tmp_path, auth, "app", "3.0")
    assert response.status_code == 400
    assert "Project size too large" in response.content.decode()
    # Decided under the write lock, after the bytes were stored: they are removed again.
    assert stored_files() == sorted(file_services.stored_paths(File.objects.all()))
    # Room made by deleting a file is room again.
    file_services.delete_file(File.objects.get(filename="app-1.0-py3-none-any.whl"), user=alice)
    assert upload(client, tmp_path / "later", auth, "app", "3.0")[0].status_code == 200
    assert kept(project) == summed(project)


def test_the_factory_keeps_it_too(db):
    release = ReleaseFactory()
    FileFactory(release=release, size=100)
    FileFactory(release=release, size=23, filename="x-1.0.tar.gz", packagetype="sdist")
    assert kept(release.project) == summed(release.project) == 123


def test_recount_sizes_reports_and_repairs_drift(tmp_path, alice, auth, client):
    response, size = upload(client, tmp_path, auth, "app", "1.0")
    assert response.status_code == 200
    projects.create_project("empty")
    assert_recount_finds(check=True, drifted=[])
    # What code older than the running total leaves behind: files it never counted.
    Project.objects.filter(name="app").update(total_size=3)
    Project.objects.filter(name="empty").update(total_size=5000)

    with pytest.raises(CommandError) as refused:
        assert_recount_finds(check=True, drifted=["app: kept 3 bytes, its files", "empty: kept 4.883 KB (5000 bytes)"])
    assert refused.value.returncode == 1
    assert str(refused.value) == "2 project size(s) drifted; run without --check to set them right."
    assert kept(Project.objects.get(name="app")) == 3  # --check changes nothing

    assert_recount_finds(check=False, drifted=["app", "empty"])
    assert kept(Project.objects.get(name="app")) == summed(Project.objects.get(name="app")) == size
    assert kept(Project.objects.get(name="empty")) == 0
    assert_recount_finds(check=True, drifted=[])


def assert_recount_finds(*, check: bool, drifted: list[str]) -> None:
    out = StringIO()
    try:
        call_command("recount_sizes", *(["--check"] if check else []), stdout=out)
    finally:
        lines = out.getvalue().splitlines()
        if drifted:
            assert len(lines) == len(drifted) + (0 if check else 1), lines
            for line, start in zip(lines, drifted, strict=False):
                assert line.startswith(start), (line, start)
        else:
            assert lines == ["Every project's size matches its files."]


BEFORE = [("packages_app", "0016_api_token_verbose_names")]
AFTER = [("packages_app", "0018_project_total_size")]


@pytest.fixture
def migrated_back(transactional_db):
    with migrated_back_to(BEFORE) as apps:
        yield apps


def test_the_migration_fills_it_from_the_files_there(migrated_back):
    Project_ = migrated_back.get_model("packages_app", "Project")
    Release_ = migrated_back.get_model("packages_app", "Release")
    File_ = migrated_back.get_model("packages_app", "File")
    full = Project_.objects.create(name="full", normalized_name="full")
    Project_.objects.create(name="empty", normalized_name="empty")
    for number, size in enumerate([1000, 234, 5]):
        release = Release_.objects.create(project=full, version=f"1.{number}", canonical_version=f"1.{number}")
        File_.objects.create(
            release=release,
            filename=f"full-1.{number}-py3-none-any.whl",
            size=size,
            sha256_digest=f"{number:064x}",
            md5_digest=f"{number:032x}",
            blake2_256_digest=f"{number:064x}",
            path=f"p/{number}",
        )
    after = migrate_to(AFTER).get_model("packages_app", "Project")
    assert dict(after.objects.values_list("name", "total_size")) == {"full": 1239, "empty": 0}
