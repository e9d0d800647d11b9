"""The index's reads (packages_app.querysets), each rule checked once here."""

import pytest
from django.contrib.auth import get_user_model

from packages_app import versions
from packages_app.models import JournalEntry, Project, ProjectStatus, Release, Role
from packages_app.services import projects, releases, roles, tokens


@pytest.fixture
def project(db):
    return projects.create_project("Demo_Pkg")


def test_a_project_is_found_by_any_spelling_of_its_name(project):
    assert Project.objects.by_name("demo.pkg").get() == project
    assert Project.objects.by_name("DEMO--PKG").get() == project
    assert not Project.objects.by_name("demo-pkg-2").exists()


def test_a_quarantined_project_and_its_releases_and_roles_offer_nothing(project, user):
    releases.create_release(project, "1.0")
    roles.grant_role(project, user, "Owner")
    projects.create_project("other")
    projects.set_status(project, ProjectStatus.QUARANTINED, "malware")
    assert list(Project.objects.offering_files().values_list("name", flat=True)) == ["other"]
    assert not Release.objects.offering_files().exists()
    assert not Role.objects.offering_files().exists()


def test_a_release_is_found_by_any_spelling_of_its_version(project):
    release = releases.create_release(project, "1.0")
    assert project.releases.by_version("1.0.0").get() == release
    assert project.releases.by_version("v1.0").get() == release
    assert not project.releases.by_version("1.0.1").exists()


def test_newest_first_is_pep_440_order(project):
    for version in ("1.0", "1.10", "1.9", "2.0rc1", "1.0.post1"):
        releases.create_release(project, version)
    newest = project.releases.newest_first().values_list("version", flat=True)
    assert list(newest) == ["2.0rc1", "1.10", "1.9", "1.0.post1", "1.0"]


def test_the_latest_release_is_the_highest_final_one_not_yanked(project):
    assert project.releases.latest() is None
    releases.create_release(project, "1.0")
    releases.create_release(project, "2.0rc1")
    assert project.releases.latest().version == "1.0"  # a final release before a pre-release
    releases.yank_release(releases.create_release(project, "1.5"), "broken")
    assert project.releases.latest().version == "1.0"  # a yanked release last
    releases.create_release(project, "1.2")
    assert project.releases.latest().version == "1.2"
    assert Release.objects.latest("created").version == "1.2"  # Django's latest(field) still works


def test_owners_come_first_then_by_user_name(project):
    users = {name: get_user_model().objects.create_user(name) for name in ("ann", "bob", "cat")}
    roles.grant_role(project, users["ann"], "Maintainer")
    roles.grant_role(project, users["cat"], "Owner")
    roles.grant_role(project, users["bob"], "Owner")
    listed = Role.objects.filter(project=project).owners_first().values_list("user__username", flat=True)
    assert list(listed) == ["bob", "cat", "ann"]


def test_project_details_count_releases_and_files_and_name_the_latest(project, user):
    releases.create_release(project, "1.0")
    releases.create_release(project, "2.0b1")
    roles.grant_role(project, user, "Owner")
    detailed = Project.objects.by_name("demo-pkg").with_details().get()
    assert (detailed.release_count, detailed.file_count, detailed.latest_version) == (2, 0, "1.0")
    assert [role.user for role in detailed.roles.all()] == [user]


def test_journal_reads(db, user):
    assert JournalEntry.objects.last_serial() == 0
    assert JournalEntry.objects.last_entry() == (0, None)
    project = projects.create_project("Demo_Pkg")
    tokens.create_token(user)
    newest = JournalEntry.objects.order_by("-id").first()
    assert JournalEntry.objects.last_serial() == newest.id
    assert JournalEntry.objects.last_entry() == (newest.id, newest.submitted_date)
    assert JournalEntry.objects.submitted_at(newest.id) == newest.submitted_date
    assert [entry.id for entry in JournalEntry.objects.published()] == [project.last_serial]  # no token events
    assert JournalEntry.objects.of_project("demo.pkg").count() == 1


@pytest.mark.parametrize(
    ("version", "canonical", "prerelease"),
    [("1.0.0", "1", False), ("2.0RC1", "2rc1", True), ("not a version", "not a version", False)],
)
def test_release_columns_are_derived_from_the_version(version, canonical, prerelease):
    columns = versions.release_columns(version)
    assert columns == {
        "canonical_version": canonical,
        "sort_key": versions.sort_key(version),
        "is_prerelease": prerelease,
    }
