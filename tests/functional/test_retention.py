"""Retention policies: each rule, the newest final release and pinned releases kept, project
policies before index-wide ones, and ``apply_retention``'s dry run equal to its real run."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from packages_app import retention
from packages_app.models import File, FilenameRegistry, JournalEntry, Release
from packages_app.services import journal, projects, roles
from packages_app.services import retention as retention_services
from tests.factories import FileFactory, ProjectFactory, ReleaseFactory, UserFactory
from tests.functional.upload_client import basic_auth, post_upload, publish, stored_files, twine_fields


def releases_of(project, *specs):
    """Releases of ``project``: each spec a version, or (version, days old); each with one file."""
    made = []
    for spec in specs:
        version, age = (spec, 0) if isinstance(spec, str) else spec
        release = ReleaseFactory(project=project, version=version, created=timezone.now() - timedelta(days=age))
        FileFactory(release=release, size=1000)
        made.append(release)
    return made


def left(project) -> list[str]:
    return sorted(Release.objects.filter(project=project).values_list("version", flat=True))


def doomed(project) -> list[str]:
    return [item.version for item in retention_services.plan(project)]


@pytest.mark.parametrize(
    ("version", "kind"),
    [
        ("1.0", "final"),
        ("1.0.dev3", "dev"),
        ("1.0rc1", "pre"),
        ("1.0a1.dev2", "dev"),
        ("1.0.post1", "post"),
        ("1.0.post1.dev1", "dev"),
        ("2!1.0b2", "pre"),
        ("not a version", None),
    ],
)
def test_kinds(version, kind):
    assert retention.kind_of(version) == kind


def test_keep_the_newest_dev_releases(db):
    project = ProjectFactory(name="app")
    releases_of(project, "1.0", "1.1.dev1", "1.1.dev2", "1.1.dev3", "1.1.dev10", "1.1rc1")
    retention_services.add_policy(project, dev=True, keep_newest=2)
    # PEP 440 order, not the order of the strings: dev10 is the newest.
    assert doomed(project) == ["1.1.dev1", "1.1.dev2"]
    retention_services.apply(project)
    assert left(project) == ["1.0", "1.1.dev10", "1.1.dev3", "1.1rc1"]


def test_older_than_days_and_both_limits_together(db):
    project = ProjectFactory(name="app")
    releases_of(project, "1.0", ("2.0.dev1", 40), ("2.0.dev2", 35), ("2.0.dev3", 10), ("2.0.dev4", 1))
    policy = retention_services.add_policy(project, dev=True, older_than_days=30)
    assert doomed(project) == ["2.0.dev1", "2.0.dev2"]
    retention_services.remove_policy(policy)
    # Both: beyond the newest 1 *and* older than 5 days; dev4 is the newest, dev1-3 are old enough.
    retention_services.add_policy(project, dev=True, keep_newest=1, older_than_days=5)
    assert doomed(project) == ["2.0.dev1", "2.0.dev2", "2.0.dev3"]
    retention_services.add_policy(project, dev=True, keep_newest=3, older_than_days=100)
    assert doomed(project) == ["2.0.dev1", "2.0.dev2", "2.0.dev3"]  # any policy may select


def test_version_pattern_and_kinds(db):
    project = ProjectFactory(name="app")
    releases_of(project, "1.0a1", "1.0rc1", "1.0", "2.0a1", "2.0b1", "2.0.dev1")
    retention_services.add_policy(project, dev=False, pre=True, version_pattern="1.*", keep_newest=0)
    assert doomed(project) == ["1.0a1", "1.0rc1"]


def test_the_newest_final_release_and_pinned_releases_are_never_deleted(db):
    project = ProjectFactory(name="app")
    _, post1, post2, dev = releases_of(project, "1.0", "1.0.post1", "1.0.post2", "1.1.dev1")
    retention_services.add_policy(project, dev=True, post=True, keep_newest=0)
    # 1.0.post2 is the newest final release (a post-release is final): it stays.
    assert doomed(project) == ["1.0.post1", "1.1.dev1"]
    retention_services.set_keep(dev, True)
    assert doomed(project) == ["1.0.post1"]
    pinned = JournalEntry.objects.get(kind=journal.RETENTION_CHANGED, action__startswith="pin")
    assert pinned.action == "pin release app 1.1.dev1 (retention)"
    retention_services.apply(project)
    assert left(project) == ["1.0", "1.0.post2", "1.1.dev1"]


def test_legacy_versions_are_never_touched(db):
    project = ProjectFactory(name="app")
    releases_of(project, "1.0", "2004d", "1.1.dev1")
    retention_services.add_policy(project, dev=True, pre=True, post=True, keep_newest=0)
    assert doomed(project) == ["1.1.dev1"]


def test_a_projects_own_policies_replace_the_index_wide_ones(db):
    own, other = ProjectFactory(name="own"), ProjectFactory(name="other")
    for project in (own, other):
        releases_of(project, "1.0", "1.1.dev1", "1.1.dev2", "1.1.dev3")
    retention_services.add_policy(None, dev=True, keep_newest=1)
    retention_services.add_policy(own, dev=True, keep_newest=2)
    assert [(item.project, item.version) for item in retention_services.plan()] == [
        ("other", "1.1.dev1"),
        ("other", "1.1.dev2"),
        ("own", "1.1.dev1"),
    ]


def test_policies_are_refused_without_a_limit_or_a_kind(db):
    from packages_app.services.errors import ServiceError

    with pytest.raises(ServiceError, match="keep_newest, older_than_days"):
        retention_services.add_policy(None, dev=True)
    with pytest.raises(ServiceError, match="choose at least one"):
        retention_services.add_policy(None, dev=False, keep_newest=1)


def run(*args) -> str:
    out = StringIO()
    call_command("apply_retention", *args, stdout=out)
    return out.getvalue()


def test_dry_run_lists_exactly_what_the_real_run_deletes(db):
    app, lib = ProjectFactory(name="app"), ProjectFactory(name="lib")
    releases_of(app, "1.0", "1.1.dev1", "1.1.dev2", "1.1.dev3")
    releases_of(lib, "0.1", "0.2.dev1", "0.2.dev2")
    ReleaseFactory(project=lib, version="0.2.dev0")  # file-less: 0 files
    retention_services.add_policy(None, dev=True, keep_newest=1)
    dry = run("--dry-run")
    assert Release.objects.count() == 8  # nothing deleted
    real = run()
    assert dry.replace("Would delete", "Deleted") == real
    assert real.splitlines() == [
        "app 1.1.dev1: 1 file, 1000 bytes (policy: every project: dev-releases, keep the newest 1)",
        "app 1.1.dev2: 1 file, 1000 bytes (policy: every project: dev-releases, keep the newest 1)",
        "lib 0.2.dev0: 0 files, 0 bytes (policy: every project: dev-releases, keep the newest 1)",
        "lib 0.2.dev1: 1 file, 1000 bytes (policy: every project: dev-releases, keep the newest 1)",
        "Deleted 4 releases (3 files, 2.9 KB).",
    ]
    assert run() == "Deleted 0 releases (0 files, 0 bytes).\n"
    assert left(app) == ["1.0", "1.1.dev3"]
    assert left(lib) == ["0.1", "0.2.dev2"]


def test_the_command_for_one_project_and_the_policy_list(db):
    app = ProjectFactory(name="app")
    releases_of(app, "1.0", "1.1.dev1", "1.1.dev2")
    releases_of(ProjectFactory(name="lib"), "1.0", "1.1.dev1", "1.1.dev2")
    retention_services.add_policy(None, dev=True, keep_newest=1)
    assert run("--project", "APP").splitlines()[-1] == "Deleted 1 release (1 file, 1000 bytes)."
    assert left(app) == ["1.0", "1.1.dev2"]
    assert "every project: dev-releases, keep the newest 1" in run("--list-policies")


def test_applying_deletes_through_the_services(client, db, tmp_path, django_capture_on_commit_callbacks):
    """Journaled, the filenames never reusable, the stored bytes gone, the pages changed."""
    owner = UserFactory(username="alice", password="pw")
    project = projects.create_project("app")
    roles.grant_role(project, owner, "Owner")
    from packages_app.services import tokens

    _token, plaintext = tokens.create_token(owner, name="ci")
    auth = basic_auth("__token__", plaintext)
    for version in ("1.0", "1.1.dev1", "1.1.dev2"):
        publish(client, tmp_path, "app", version, auth=auth)
    gone = File.objects.get(release__version="1.1.dev1")
    retention_services.add_policy(project, dev=True, keep_newest=1)
    serial = project.last_serial
    with django_capture_on_commit_callbacks(execute=True):
        run()
    assert not File.objects.filter(pk=gone.pk).exists()
    assert FilenameRegistry.objects.filter(filename=gone.filename).exists()
    assert gone.path not in stored_files()
    entry = JournalEntry.objects.get(kind=journal.RELEASE_DELETED)
    assert (entry.name, entry.version) == ("app", "1.1.dev1")
    project.refresh_from_db()
    assert project.last_serial > serial
    page = client.get("/simple/app/", HTTP_AUTHORIZATION=auth)
    assert b"1.1.dev1" not in page.content
    assert b"1.1.dev2" in page.content
    # The filename is spent: uploading it again is refused.
    wheel = next((tmp_path / "app-1.1.dev1-wheel").glob("*.whl"))
    response = post_upload(client, twine_fields(wheel, "app", "1.1.dev1"), auth)
    assert response.status_code == 400
