"""benchmarks/seed.py: a small seed served through the simple API, and its refusals;
and the benchmark suite's Django-side tasks on such a seed."""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command

from packages_app.models import File, FilenameRegistry, JournalEntry, Project, Release
from packages_app.services import projects
from packages_app.storage import package_storage
from packages_app.upload import archives

JSON_V1 = "application/vnd.pypi.simple.v1+json"


REPO_ROOT = Path(__file__).resolve().parents[2]


def _benchmark_module(name: str):
    benchmarks = REPO_ROOT / "benchmarks"
    # As when the script runs, its sibling modules (_django) can be imported; appended, so that
    # none of them shadows a module of the same name elsewhere.
    if str(benchmarks) not in sys.path:
        sys.path.append(str(benchmarks))
    path = benchmarks / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", path)
    module = sys.modules.get(spec.name)
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    return module


def seed(*args: str) -> str:
    out = StringIO()
    call_command(_benchmark_module("seed").Command(), *args, stdout=out)
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
    # Each project's running total, as the file services would have kept it.
    for each in Project.objects.all():
        assert each.total_size == sum(File.objects.filter(release__project=each).values_list("size", flat=True))
    assert project.total_size > 0

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

    # A second run refuses and changes nothing: the database holds projects now, and even
    # with --force the names clash.
    with pytest.raises(CommandError, match="already holds projects"):
        seed("--releases", "5", "--small-projects", "3", "--with-files", "--project-name", "other")
    with pytest.raises(CommandError, match="'ccxt' already exists"):
        seed("--releases", "5", "--small-projects", "3", "--with-files", "--force")
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
        seed("--releases", "1", "--small-projects", "3", "--no-files", "--project-name", "demo", "--force")
    assert not Project.objects.filter(name="demo").exists()

    # A deleted project's filenames stay registered, so seeding its name again is refused.
    projects.delete_project(Project.objects.get(name="demo-small-00002"))
    with pytest.raises(CommandError, match="filename 'demo_small_00002-1.0.0-py2.py3-none-any.whl' was used before"):
        seed("--releases", "1", "--small-projects", "0", "--no-files", "--project-name", "demo-small-00002", "--force")
    assert not Project.objects.exists()


def test_the_seed_is_a_benchmark_script_not_a_product_command(tmp_path):
    """Run as docs/benchmarks.md says, on a fresh database: it seeds an empty index, refuses a
    non-empty one without --force, and manage.py (what operators run) no longer offers it."""
    env = {
        **{key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "FILE_STORAGE", "REDIS_URL"}},
        "DEBUG": "true",
        "INDEX_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "indexsite.settings",
    }
    python = sys.executable

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert run(python, "manage.py", "migrate", "--noinput").returncode == 0
    unknown = run(python, "manage.py", "seed_benchmark")
    assert unknown.returncode != 0
    assert "Unknown command: 'seed_benchmark'" in unknown.stderr

    seeded = run(python, "benchmarks/seed.py", "--releases", "2", "--small-projects", "1", "--no-files")
    assert seeded.returncode == 0, seeded.stderr
    assert "Seeded ccxt: 2 releases" in seeded.stdout

    refused = run(python, "benchmarks/seed.py", "--releases", "2", "--small-projects", "0", "--project-name", "more")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "CommandError: This database already holds projects: the seed writes thousands of fake ones. "
        "Seed an empty database, or pass --force to add to this one."
    )
    forced = run(python, "benchmarks/seed.py", "--releases", "2", "--small-projects", "0", "--project-name", "more",
                 "--no-files", "--force")  # fmt: skip
    assert forced.returncode == 0, forced.stderr


# ---------------------------------------------------------------- the suite's Django-side tasks
# benchmarks/django_tasks.py turns the seed into the peers' data and counts queries; the suite
# itself is not part of the test run, so these keep its Django-facing half from rotting.


def _django_tasks():
    return _benchmark_module("django_tasks")


@pytest.mark.django_db
def test_export_for_the_peers(tmp_path, capsys):
    if not isinstance(package_storage(), FileSystemStorage):
        pytest.skip("the export hard-links the stored files: the benchmark runs on local files")
    seed("--releases", "3", "--small-projects", "2", "--with-files")
    seed("--releases", "2", "--small-projects", "0", "--with-files", "--project-name", "scale-2", "--force")
    capsys.readouterr()
    pypiserver, devpi = tmp_path / "pypiserver", tmp_path / "devpi"
    args = argparse.Namespace(
        group=["main=*", "scale-2=scale-2"], pypiserver=pypiserver, devpi=devpi, devpi_version="6"
    )
    _django_tasks().export_peers(args)
    assert json.loads(capsys.readouterr().out) == {
        "main": {"projects": 3, "files": 8},
        "scale-2": {"projects": 1, "files": 4},
    }
    # pypiserver: a flat folder per group of the very files in storage.
    assert sorted(path.name for path in (pypiserver / "scale-2").iterdir()) == [
        "scale_2-1.0.0-py2.py3-none-any.whl",
        "scale_2-1.0.0.tar.gz",
        "scale_2-1.0.1-py3-none-any.whl",
        "scale_2-1.0.1.tar.gz",
    ]
    stored = File.objects.get(filename="scale_2-1.0.1.tar.gz")
    assert hashlib.sha256((pypiserver / "scale-2" / stored.filename).read_bytes()).hexdigest() == stored.sha256_digest
    # devpi: its export format, every version (with or without files) and every file's digest and time.
    export = json.loads((devpi / "dataindex.json").read_text())
    assert export["dumpversion"] == "2"
    index = export["indexes"]["root/scale-2"]
    assert index["indexconfig"]["type"] == "stage"
    assert sorted(index["projects"]["scale-2"]) == ["1.0.0", "1.0.1"]
    described = {entry["relpath"]: entry for entry in index["files"]}
    entry = described["root/scale-2/scale-2/1.0.1/scale_2-1.0.1.tar.gz"]
    assert entry["entrymapping"]["hashes"] == {"sha256": stored.sha256_digest}
    assert entry["version"] == "1.0.1"
    last_modified = email.utils.parsedate_to_datetime(entry["entrymapping"]["last_modified"])
    assert last_modified == stored.upload_time.replace(microsecond=0)  # HTTP dates have whole seconds
    links = dict(line.split("\t")[::-1] for line in (devpi / "links.tsv").read_text().splitlines())
    relpaths = {one["relpath"] for index in export["indexes"].values() for one in index["files"]}
    assert set(links) == relpaths
    assert len(relpaths) == 12
    assert all(Path(source).is_file() for source in links.values())


@pytest.mark.django_db
def test_query_counts_of_a_built_and_a_warm_page(monkeypatch, capsys):
    seed("--releases", "3", "--small-projects", "1", "--no-files")
    capsys.readouterr()
    endpoints = [
        {"key": "page", "path": "/simple/ccxt/", "headers": {"Accept": JSON_V1}},
        {"key": "changelog", "method": "POST", "path": "/pypi", "headers": {"Content-Type": "text/xml"},
         "body": "<?xml version='1.0'?><methodCall><methodName>changelog_last_serial</methodName></methodCall>"},
    ]  # fmt: skip
    monkeypatch.setattr("sys.stdin", StringIO(json.dumps(endpoints)))
    _django_tasks().count_queries(argparse.Namespace())
    counts = json.loads(capsys.readouterr().out)
    assert counts["page"]["status"] == counts["changelog"]["status"] == 200
    assert counts["page"]["warm"] == 1 < counts["page"]["cold"]
    # Counted twice over, the same: nothing else writes or builds while it counts.
    assert counts["page"]["cold_runs"] == [counts["page"]["cold"]] * 2
    assert counts["page"]["warm_runs"] == [1, 1]
