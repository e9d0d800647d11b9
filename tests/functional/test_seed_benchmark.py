"""manage.py seed_benchmark: a small seed served through the simple API, and its refusals."""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from packages_app.models import File, FilenameRegistry, JournalEntry, Project, Release
from packages_app.services import projects
from packages_app.upload import archives

JSON_V1 = "application/vnd.pypi.simple.v1+json"


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_benchmark", *args, stdout=out)
    return out.getvalue()


def get_json(client, url: str) -> dict:
    response = client.get(url, HTTP_ACCEPT=JSON_V1)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return b"".join(response.streaming_content)


@pytest.mark.django_db
def test_small_seed_is_served_and_downloadable(client, tmp_path):
    printed = seed("--releases", "5", "--small-projects", "3", "--with-files")
    assert "Seeded ccxt: 5 releases (0 without files, 0 yanked), 10 files." in printed
    assert "Seeded 3 small projects with 3 files." in printed

    page = get_json(client, "/simple/ccxt/")
    assert page["versions"] == ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4"]
    # The oldest 40 % of releases have no Requires-Python and py2.py3 wheels; then >=3.7, then >=3.8.
    listed = [(file["filename"], file["requires-python"]) for file in page["files"]]
    assert listed == [
        ("ccxt-1.0.0-py2.py3-none-any.whl", None),
        ("ccxt-1.0.0.tar.gz", None),
        ("ccxt-1.0.1-py2.py3-none-any.whl", None),
        ("ccxt-1.0.1.tar.gz", None),
        ("ccxt-1.0.2-py3-none-any.whl", ">=3.7"),
        ("ccxt-1.0.2.tar.gz", ">=3.7"),
        ("ccxt-1.0.3-py3-none-any.whl", ">=3.7"),
        ("ccxt-1.0.3.tar.gz", ">=3.7"),
        ("ccxt-1.0.4-py3-none-any.whl", ">=3.8"),
        ("ccxt-1.0.4.tar.gz", ">=3.8"),
    ]
    upload_times = [file["upload-time"] for file in page["files"]]
    assert upload_times == sorted(upload_times)

    project = Project.objects.get(normalized_name="ccxt")
    newest = JournalEntry.objects.filter(name="ccxt").order_by("-id").first()
    assert project.last_serial == newest.id == page["meta"]["_last-serial"]
    assert newest.action == "add source file ccxt-1.0.4.tar.gz"
    assert JournalEntry.objects.filter(name="ccxt").count() == 1 + 5 + 10
    assert FilenameRegistry.objects.count() == File.objects.count() == 13

    # Every file downloads with its digest, every wheel's .metadata too, and each
    # archive passes the same checks an upload would.
    for entry in page["files"]:
        data = download(client, entry["url"])
        assert hashlib.sha256(data).hexdigest() == entry["hashes"]["sha256"]
        assert len(data) == entry["size"]
        is_wheel = entry["filename"].endswith(".whl")
        path = tmp_path / entry["filename"]
        path.write_bytes(data)
        core_metadata = archives.inspect_distribution(path, entry["filename"], "bdist_wheel" if is_wheel else "sdist")
        if is_wheel:
            metadata = download(client, entry["url"] + ".metadata")
            assert hashlib.sha256(metadata).hexdigest() == entry["core-metadata"]["sha256"]
            assert metadata == core_metadata
        else:
            assert entry["core-metadata"] is False

    index = get_json(client, "/simple/")
    names = [item["name"] for item in index["projects"]]
    assert names == ["ccxt", "ccxt-small-00001", "ccxt-small-00002", "ccxt-small-00003"]
    for item in index["projects"]:
        assert item["_last-serial"] == Project.objects.get(name=item["name"]).last_serial > 0
    small = get_json(client, "/simple/ccxt-small-00002/")
    assert len(small["versions"]) == len(small["files"]) == 1
    assert download(client, small["files"][0]["url"])

    # A second run refuses and changes nothing.
    with pytest.raises(CommandError, match="'ccxt' already exists"):
        seed("--releases", "5", "--small-projects", "3", "--with-files")
    assert (Project.objects.count(), Release.objects.count(), File.objects.count()) == (4, 8, 13)


@pytest.mark.django_db
def test_bigger_seed_has_fileless_yanked_and_prereleases(client):
    printed = seed("--releases", "260", "--small-projects", "0", "--no-files", "--project-name", "Big_Thing")
    # Releases 57, 157 and 257 have no files; 58, 59, 158, 159, 258 and 259 have a binary
    # wheel more (2 x 260 files, as ccxt); 123 is yanked; 250 is a release candidate.
    assert "Seeded Big_Thing: 260 releases (3 without files, 1 yanked), 520 files." in printed
    page = get_json(client, "/simple/big-thing/")
    assert len(page["versions"]) == 260
    assert len(page["files"]) == 520
    assert sum(file["filename"].endswith("-cp311-cp311-manylinux_2_17_x86_64.whl") for file in page["files"]) == 6
    assert "2.0.50rc1" not in page["versions"]  # majors change every 1,500 releases
    assert "1.2.50rc1" in page["versions"]
    assert Release.objects.get(version="1.2.50rc1").is_prerelease
    yanked = [file for file in page["files"] if file["yanked"]]
    assert [file["yanked"] for file in yanked] == [True, True]  # the first yanked release has no reason
    assert [file["filename"] for file in yanked] == ["big_thing-1.1.23-py3-none-any.whl", "big_thing-1.1.23.tar.gz"]
    assert {file["requires-python"] for file in page["files"]} == {None, ">=3.7", ">=3.8"}
    assert JournalEntry.objects.filter(action="yank release").count() == 1
    # --no-files: the rows are there, the bytes are not.
    assert client.get(page["files"][0]["url"]).status_code == 404
    # Serials follow time: the journal is in submitted order.
    dates = list(JournalEntry.objects.order_by("id").values_list("submitted_date", flat=True))
    assert dates == sorted(dates)


@pytest.mark.django_db
def test_refuses_names_and_filenames_in_use():
    seed("--releases", "1", "--small-projects", "0", "--no-files", "--project-name", "demo-small-00002")
    with pytest.raises(CommandError, match="'demo-small-00002' already exists"):
        seed("--releases", "1", "--small-projects", "3", "--no-files", "--project-name", "demo")
    assert not Project.objects.filter(name="demo").exists()

    # A deleted project's filenames stay registered, so seeding its name again is refused.
    projects.delete_project(Project.objects.get(name="demo-small-00002"))
    with pytest.raises(CommandError, match="filename 'demo_small_00002-1.0.0-py2.py3-none-any.whl' was used before"):
        seed("--releases", "1", "--small-projects", "0", "--no-files", "--project-name", "demo-small-00002")
    assert not Project.objects.exists()
