import pytest

from packages_app.models import JournalEntry, Project, ProjectStatus
from packages_app.services import journal as journal_module
from packages_app.services import projects
from packages_app.services.errors import Conflict, ServiceError


def test_create_project_journals_once(journal, user):
    project = projects.create_project("Foo_Bar.baz", user=user)
    [entry] = journal.new_entries()
    assert (entry.name, entry.action, entry.submitted_by) == ("Foo_Bar.baz", "create", user)
    assert project.normalized_name == "foo-bar-baz"
    assert Project.objects.get(pk=project.pk).last_serial == entry.id


def test_names_that_normalise_alike_are_one_project(db):
    first = projects.create_project("Foo_Bar.baz")
    with pytest.raises(Conflict, match="conflicts with an existing project"):
        projects.create_project("foo-bar-baz")
    found, created = projects.get_or_create_project("FOO-bar_BAZ")
    assert (found.pk, created) == (first.pk, False)
    assert Project.objects.count() == 1


def test_invalid_name_is_refused(db):
    with pytest.raises(ServiceError, match="not a valid project name"):
        projects.create_project("-bad-")
    assert not JournalEntry.objects.exists()


def test_set_status_journals_once(journal):
    project = projects.create_project("demo")
    journal.new_entries()
    project = projects.set_status(project, ProjectStatus.QUARANTINED, "malware report")
    [entry] = journal.new_entries()
    assert entry.action == "set status quarantined"
    project.refresh_from_db()
    assert (project.status, project.status_reason, project.last_serial) == ("quarantined", "malware report", entry.id)
    assert not project.offers_files
    assert not project.accepts_uploads


def test_unknown_status_is_refused(db):
    project = projects.create_project("demo")
    with pytest.raises(ServiceError, match="Unknown project status"):
        projects.set_status(project, "gone")


def test_delete_project_journals_once(journal):
    project = projects.create_project("demo")
    journal.new_entries()
    projects.delete_project(project)
    [entry] = journal.new_entries()
    assert (entry.name, entry.action) == ("demo", "remove project")
    assert not Project.objects.exists()


def test_respell_takes_only_another_spelling_of_the_name(journal):
    project = projects.create_project("Foo_Bar")
    journal.new_entries()
    with journal_module.write_transaction():
        with pytest.raises(ServiceError, match="not a spelling"):
            projects.respell(project, "foo-baz")
        projects.respell(project, "FOO.bar")
    assert Project.objects.get(pk=project.pk).name == "FOO.bar"
    assert journal.new_entries() == []  # the upload that respells journals the change
