import pytest

from packages_app.models import Release
from packages_app.services import projects, releases
from packages_app.services.errors import Conflict, ServiceError


@pytest.fixture
def project(db):
    return projects.create_project("demo")


def test_file_less_release_is_stored_and_listed(project, journal):
    release = releases.create_release(project, "1.0", {"summary": "no files yet", "requires_python": ">=3.9"})
    [entry] = journal.new_entries()
    assert (entry.action, entry.version) == ("new release", "1.0")
    assert list(project.releases.all()) == [release]
    assert release.files.count() == 0
    project.refresh_from_db()
    assert project.last_serial == entry.id


def test_one_and_one_point_oh_are_one_release(project):
    releases.create_release(project, "1.0")
    with pytest.raises(Conflict, match=r"already has a release 1\.0\.$"):  # names the existing one
        releases.create_release(project, "1.0.0")
    assert releases.find_release(project, "1.0.0").version == "1.0"
    assert Release.objects.count() == 1


def test_unknown_metadata_is_refused(project):
    with pytest.raises(ServiceError, match="Unknown release metadata: colour"):
        releases.create_release(project, "1.0", {"colour": "blue"})


def test_legacy_versions_are_storable_and_sort_first(project):
    for version in ["2.0", "1.0rc1", "2004d", "1.0", "1.0.post1", "1.0.dev1", "1.0+local"]:
        releases.create_release(project, version)
    newest_first = list(project.releases.order_by("-sort_key").values_list("version", flat=True))
    assert newest_first == ["2.0", "1.0.post1", "1.0+local", "1.0", "1.0rc1", "1.0.dev1", "2004d"]


def test_yank_and_unyank_journal_once_each(project, journal):
    release = releases.create_release(project, "1.0")
    journal.new_entries()
    releases.yank_release(release, "broken wheel")
    [yank] = journal.new_entries()
    release.refresh_from_db()
    assert (release.yanked, release.yanked_reason, yank.action) == (True, "broken wheel", "yank release")
    releases.unyank_release(release)
    [unyank] = journal.new_entries()
    release.refresh_from_db()
    assert (release.yanked, release.yanked_reason, unyank.action) == (False, "", "unyank release")
    assert unyank.id > yank.id


def test_delete_release_journals_once(project, journal):
    release = releases.create_release(project, "1.0")
    journal.new_entries()
    releases.delete_release(release)
    [entry] = journal.new_entries()
    assert (entry.action, entry.version) == ("remove release", "1.0")
    assert not Release.objects.exists()
