import pytest

from packages_app.models import File, FilenameRegistry
from packages_app.services import files, projects, releases
from packages_app.services.errors import Conflict
from packages_app.storage import package_storage


@pytest.fixture
def release(db):
    return releases.create_release(projects.create_project("demo"), "1.0")


def test_add_file_journals_once_and_registers_the_name(release, journal, stored_file):
    file = files.add_file(release, stored_file("demo-1.0-py3-none-any.whl"), requires_python=">=3.9")
    [entry] = journal.new_entries()
    assert entry.action == "add py3 file demo-1.0-py3-none-any.whl"
    assert (entry.filename, entry.version) == ("demo-1.0-py3-none-any.whl", "1.0")
    assert FilenameRegistry.objects.filter(filename=file.filename).exists()
    release.project.refresh_from_db()
    assert release.project.last_serial == entry.id


def test_deleted_filename_can_never_be_reused(release, journal, stored_file):
    file = files.add_file(release, stored_file("demo-1.0-py3-none-any.whl", sha="a"))
    files.delete_file(file)
    assert journal.new_entries()[-1].action == "remove file demo-1.0-py3-none-any.whl"
    assert not File.objects.exists()
    with pytest.raises(Conflict, match="File already exists"):
        files.add_file(release, stored_file("demo-1.0-py3-none-any.whl", sha="b"))
    assert not File.objects.exists()


def test_same_content_under_another_name_is_refused(release, stored_file):
    files.add_file(release, stored_file("demo-1.0-py3-none-any.whl", sha="a"))
    with pytest.raises(Conflict):
        files.add_file(release, stored_file("demo-1.0-py2.py3-none-any.whl", sha="a"))
    assert File.objects.count() == 1
    assert not FilenameRegistry.objects.filter(filename="demo-1.0-py2.py3-none-any.whl").exists()


def test_delete_removes_stored_bytes_after_commit(release, stored_file, django_capture_on_commit_callbacks):
    storage = package_storage()
    stored = stored_file("demo-1.0-py3-none-any.whl")
    storage.save(stored.path, __import__("io").BytesIO(b"wheel bytes"))
    file = files.add_file(release, stored)
    with django_capture_on_commit_callbacks(execute=True):
        files.delete_file(file)
    assert not storage.exists(stored.path)
