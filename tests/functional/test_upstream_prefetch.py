"""``manage.py prefetch_upstream`` (packages_app/upstream/prefetch.py) against a real upstream on 127.0.0.1."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from harness.dists import build_wheel
from harness.upstream_index import UpstreamIndex
from packages_app.models import Project
from tests.functional.test_upstream import body, page, upstream_paths


@pytest.fixture
def upstream(settings):
    with UpstreamIndex() as index:
        settings.UPSTREAM_INDEX_URL = index.url
        settings.UPSTREAM_BLOCKED_PREFIXES = []
        settings.UPSTREAM_ALLOWED_PROJECTS = []
        settings.UPSTREAM_PAGE_TTL = 600
        settings.UPSTREAM_TIMEOUT_SECONDS = 2.0
        settings.UPSTREAM_COOLDOWN = ""
        settings.UPSTREAM_COOLDOWN_EXEMPT_PROJECTS = []
        settings.UPSTREAM_NOT_AFTER = ""
        settings.SIMPLE_DEFAULT_COOLDOWN = ""
        yield index


def wheels(tmp_path, name: str, *versions: str, **fields):
    return [build_wheel(tmp_path / name / version, name, version, **fields) for version in versions]


@pytest.fixture
def tool_kit(upstream, tmp_path):
    """tool-kit 1.0, 1.5, 2.0 and 3.0b1 (a pre-release), one wheel each."""
    return upstream.add("tool-kit", *wheels(tmp_path, "tool-kit", "1.0", "1.5", "2.0", "3.0b1"))


def prefetch(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("prefetch_upstream", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def kept_files(name: str = "") -> list[str]:
    """The filenames of the distributions kept (their .metadata left out)."""
    return sorted(
        path.rsplit("/", 1)[1]
        for path in upstream_paths()
        if not path.endswith(".metadata") and path.startswith(f"upstream/{name}")
    )


def test_fetches_every_file_of_the_newest_version_and_serves_them_with_upstream_gone(client, db, upstream, tmp_path):
    sdist_of_two = tmp_path / "tool_kit-2.0.tar.gz"
    sdist_of_two.write_bytes(b"an sdist")
    project = upstream.add(
        "tool-kit",
        *wheels(tmp_path, "tool-kit", "1.0", "2.0"),
        *wheels(tmp_path / "other-tag", "tool-kit", "2.0", tag="py2-none-any"),
    )
    project.files.append(type(project.files[0])(sdist_of_two.name, sdist_of_two.read_bytes()))
    out, _ = prefetch("Tool_Kit")
    assert kept_files() == sorted(
        ["tool_kit-2.0-py3-none-any.whl", "tool_kit-2.0-py2-none-any.whl", "tool_kit-2.0.tar.gz"]
    )
    assert sorted(path for path in upstream_paths() if path.endswith(".metadata")) == sorted(
        f"upstream/tool-kit/{file.sha256}/{file.filename}.metadata"
        for file in project.files
        if file.metadata and "2.0" in file.filename
    )
    assert "Fetched 3 file(s) and 2 .metadata file(s)" in out
    assert "0 already kept" in out

    upstream.__exit__(None, None, None)  # stopped: everything comes from what was kept
    response = page(client, "tool-kit")
    assert response.status_code == 200
    files = {file["filename"]: file for file in orjson.loads(response.content)["files"]}
    for file in project.files:
        if "2.0" in file.filename:
            url = files[file.filename]["url"]
            assert body(client.get(url)) == file.data
            if file.metadata:
                assert body(client.get(url + ".metadata")) == file.metadata


def test_a_specifier_picks_an_older_version(db, tool_kit):
    prefetch("tool-kit<2,>=1.0")
    assert kept_files() == ["tool_kit-1.5-py3-none-any.whl"]


def test_pre_releases_only_when_the_specifier_asks(db, tool_kit):
    prefetch("tool-kit")
    assert kept_files() == ["tool_kit-2.0-py3-none-any.whl"]
    prefetch("tool-kit>=3.0b1")
    assert kept_files() == ["tool_kit-2.0-py3-none-any.whl", "tool_kit-3.0b1-py3-none-any.whl"]


def test_all_versions_takes_every_matching_version_but_no_yanked_file(db, tool_kit):
    tool_kit.files[0].yanked = "broken"  # 1.0
    out, _ = prefetch("tool-kit>=1.0", "--all-versions")
    assert kept_files() == ["tool_kit-1.5-py3-none-any.whl", "tool_kit-2.0-py3-none-any.whl"]
    assert "Fetched 2 file(s)" in out


def test_requirement_files_with_comments_options_and_nested_files(db, upstream, tmp_path, tool_kit):
    upstream.add("other-lib", *wheels(tmp_path, "other-lib", "0.1", "0.2"))
    upstream.add("third", *wheels(tmp_path, "third", "5.0"))
    nested = tmp_path / "reqs" / "more"
    nested.mkdir(parents=True)
    (nested / "base.txt").write_text("# the base\nOther_Lib==0.1 \\\n    --hash=sha256:abc\n")
    main = tmp_path / "reqs" / "main.txt"
    main.write_text(
        "# pinned\n"
        "\n"
        "--index-url https://index.example.org/simple/\n"
        "tool-kit==1.5  # an old one\n"
        "-r more/base.txt\n"
        "-e ./src\n"
        "https://files.example.org/thing-1.0-py3-none-any.whl\n"
    )
    out, err = prefetch("-r", str(main), "third")
    assert kept_files() == [
        "other_lib-0.1-py3-none-any.whl",
        "third-5.0-py3-none-any.whl",
        "tool_kit-1.5-py3-none-any.whl",
    ]
    assert "option line skipped: --index-url" in err
    assert "editable requirement skipped: -e ./src" in err
    assert "URL or path skipped" in err
    assert "Fetched 3 file(s)" in out


def test_a_missing_requirement_file_is_refused(db, upstream, tmp_path):
    with pytest.raises(CommandError, match="nowhere.txt"):
        prefetch("-r", str(tmp_path / "nowhere.txt"))
    assert upstream.hits() == []


def test_blocked_and_local_names_are_skipped_without_asking_upstream(db, upstream, settings, tmp_path):
    settings.UPSTREAM_BLOCKED_PREFIXES = ["acme"]
    upstream.add("acme-billing", *wheels(tmp_path, "acme-billing", "1.0"))
    upstream.add("tool-kit", *wheels(tmp_path, "tool-kit", "1.0"))
    Project.objects.create(name="Tool-Kit", normalized_name="tool-kit")
    out, _ = prefetch("acme-billing", "tool_kit")  # skips are not failures: no CommandError
    assert "Skipped acme-billing: 'acme-billing' is in the blocked namespace 'acme'" in out
    assert "Skipped tool-kit: 'tool-kit' is a project of this index" in out
    assert upstream.hits() == []
    assert upstream_paths() == []


def test_an_unknown_project_fails_the_command_but_the_others_are_fetched(db, tool_kit):
    with pytest.raises(CommandError, match="could not be satisfied: nowhere") as failed:
        prefetch("nowhere", "tool-kit")
    assert failed.value.returncode == 1
    assert kept_files() == ["tool_kit-2.0-py3-none-any.whl"]


def test_no_matching_version_fails_the_command(db, tool_kit):
    out = io.StringIO()
    with pytest.raises(CommandError, match="tool-kit"):
        call_command("prefetch_upstream", "tool-kit>=9", stdout=out, stderr=io.StringIO())
    assert "Failed tool-kit: no file offered matches >=9" in out.getvalue()
    assert upstream_paths() == []


def test_an_upstream_error_fails_the_command(db, upstream, tmp_path):
    upstream.add("broken", *wheels(tmp_path, "broken", "1.0"), mode="500")
    out = io.StringIO()
    with pytest.raises(CommandError, match="broken"):
        call_command("prefetch_upstream", "broken", stdout=out, stderr=io.StringIO())
    assert "answered 500" in out.getvalue()


def test_a_corrupted_upstream_file_fails_and_nothing_is_kept(db, upstream, tmp_path, tool_kit):
    upstream.add("other-lib", *wheels(tmp_path, "other-lib", "0.1"))
    tool_kit.files[2].tamper = True  # 2.0
    out = io.StringIO()
    with pytest.raises(CommandError, match="could not be satisfied: tool-kit"):
        call_command("prefetch_upstream", "tool-kit", "other-lib", stdout=out, stderr=io.StringIO())
    assert "sha256" in out.getvalue()
    assert [path for path in upstream_paths() if path.startswith("upstream/tool-kit/")] == []
    assert kept_files() == ["other_lib-0.1-py3-none-any.whl"]


def test_files_held_back_by_the_cooldown_are_not_fetched(db, upstream, settings, tmp_path):
    now = datetime.now(UTC)
    project = upstream.add("tool-kit", *wheels(tmp_path, "tool-kit", "1.0", "2.0", "3.0"))
    project.files[0].upload_time = (now - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    project.files[1].upload_time = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    project.files[2].upload_time = None  # fail-closed: undated files are held back too
    settings.UPSTREAM_COOLDOWN = "3d"
    prefetch("tool-kit")
    assert kept_files() == ["tool_kit-1.0-py3-none-any.whl"]
    prefetch("tool-kit", "--all-versions")
    assert kept_files() == ["tool_kit-1.0-py3-none-any.whl"]
    out = io.StringIO()
    with pytest.raises(CommandError, match="tool-kit"):
        call_command("prefetch_upstream", "tool-kit>=2", stdout=out, stderr=io.StringIO())
    assert "2 file(s) held back by the cool-down" in out.getvalue()
    assert upstream.hits("2.0") == []
    assert upstream.hits("3.0") == []


def test_files_already_kept_are_not_downloaded_again(client, db, upstream, tool_kit):
    url = orjson.loads(page(client, "tool-kit").content)["files"][2]["url"]
    assert "tool_kit-2.0-" in url
    body(client.get(url))  # a client's first download kept the file, not its metadata
    assert len(upstream.hits("/files/tool_kit-2.0-")) == 1
    out, _ = prefetch("tool-kit")
    assert "Fetched 0 file(s) and 1 .metadata file(s)" in out
    assert "1 already kept" in out
    out, _ = prefetch("tool-kit")
    assert "Fetched 0 file(s), 0 MB; 1 already kept" in out
    assert upstream.hits("/files/tool_kit-2.0-") == [
        "/files/tool_kit-2.0-py3-none-any.whl",
        "/files/tool_kit-2.0-py3-none-any.whl.metadata",
    ]


def test_refused_without_an_upstream(db, settings):
    settings.UPSTREAM_INDEX_URL = ""
    with pytest.raises(CommandError, match="UPSTREAM_INDEX_URL is not set") as refused:
        prefetch("tool-kit")
    assert refused.value.returncode == 2


def test_refused_without_a_requirement(db, upstream):
    with pytest.raises(CommandError, match="at least one requirement"):
        prefetch()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_in_bytes_on_a_terminal_only(db, tool_kit):
    terminal = Terminal()
    call_command("prefetch_upstream", "tool-kit", stdout=io.StringIO(), stderr=terminal)
    assert "Fetching" in terminal.getvalue()
    assert "100%" in terminal.getvalue()
    assert "B/s" in terminal.getvalue()
    assert "\x1b[31" not in terminal.getvalue()  # not painted as an error
    _, err = prefetch("tool-kit>=1.0,<2")  # not a terminal: no bar
    assert "Fetching" not in err


def test_an_invalid_requirement_fails_but_the_others_are_fetched(db, tool_kit):
    out = io.StringIO()
    with pytest.raises(CommandError, match="could not be satisfied"):
        call_command("prefetch_upstream", "tool-kit", "not a requirement!", stdout=out, stderr=io.StringIO())
    assert "Failed not a requirement!: not a valid requirement" in out.getvalue()
    assert kept_files() == ["tool_kit-2.0-py3-none-any.whl"]


def test_a_corrupted_file_does_not_stop_the_other_versions_of_its_project(db, tool_kit):
    tool_kit.files[0].tamper = True  # 1.0
    out = io.StringIO()
    with pytest.raises(CommandError, match="could not be satisfied: tool-kit"):
        call_command("prefetch_upstream", "tool-kit", "--all-versions", stdout=out, stderr=io.StringIO())
    assert "Failed tool-kit: tool_kit-1.0-py3-none-any.whl: sha256" in out.getvalue()
    assert kept_files() == ["tool_kit-1.5-py3-none-any.whl", "tool_kit-2.0-py3-none-any.whl"]
