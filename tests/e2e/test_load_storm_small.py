"""A small load storm (``benchmarks/load_storm.py``, its engine in ``harness/load_storm.py``) in the normal suite,
so the script cannot rot.

4 upload clients x 10 uploads and 2 readers against a real gunicorn, on SQLite
and, when a PostgreSQL server answers on 127.0.0.1, on a throw-away database
there. The full storm (8 x 100 with 8 readers) is the script's default run.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from harness import load_storm, markdown

CLIENTS, UPLOADS, READERS = 4, 10, 2


def postgres_url() -> str:
    run_url = os.environ.get("DATABASE_URL", "")
    if run_url.startswith("postgres"):
        return run_url
    return os.environ.get("LOAD_STORM_POSTGRES_URL", load_storm.DEFAULT_POSTGRES_URL)


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_a_small_storm_loses_nothing_and_shows_nothing_out_of_order(database, tmp_path):
    url = postgres_url()
    if database == "postgres":
        why = load_storm.postgres_reachable(url)
        if why:
            pytest.skip(f"no PostgreSQL at {url} ({why}); the small storm ran on SQLite only")
    config = load_storm.Config(
        clients=CLIENTS,
        uploads=UPLOADS,
        readers=READERS,
        database=database,
        postgres_url=url,
        workers=2,
        timeout=180,
        tmpdir=str(tmp_path),
    )
    result = load_storm.run_storm(config)
    assert result.ok, result.markdown()
    assert result.accepted == CLIENTS * UPLOADS
    # Every tenth upload repeats the one before it: 200, nothing created.
    assert result.created == CLIENTS * (UPLOADS - UPLOADS // load_storm.REPEAT_EVERY)
    # Not vacuous: the readers really read while the uploads ran.
    assert result.latency["events feed"].count >= READERS
    assert result.latency["simple page"].count >= READERS


# ---------------------------------------------------------------- the checks themselves can fail


def _answer(status: int, target: str, started: float = 0.0, kind: str = "upload") -> load_storm.Answer:
    return load_storm.Answer(kind, target, status, "OK" if status == 200 else "boom", started, 0.01)


def test_the_checks_report_loss_duplicates_and_disorder(tmp_path):
    plan = load_storm.make_plan(tmp_path, "t", clients=1, uploads=3)
    a, b, c = plan[0]
    uploader = load_storm.Uploader("127.0.0.1:1", "", plan[0], time.monotonic(), threading.Barrier(1))
    uploader.answers = [(a, _answer(200, a.filename)), (b, _answer(200, b.filename)), (c, _answer(503, c.filename))]
    uploader.accepted = {a.name: 1.0}
    reader = load_storm.Reader("127.0.0.1:1", "", [a.name], since=10, seed=0)
    reader.seen, reader.last = [11, 13], 13  # 12 was committed, but showed up only after 13
    reader.answers = [_answer(404, a.name, started=5.0, kind="simple page")]  # after a's upload was answered
    row = {"filename": a.filename, "sha256": a.sha256, "size": len(a.data), "path": "p/a", "project": a.name}
    snapshot = {
        "files": [
            {**row, "stored": [a.sha256, len(a.data) - 1]},  # truncated in storage
            {**row, "filename": "stranger.whl", "stored": None},  # a file nobody sent, same sha256 and path
        ],  # and b's row is missing altogether
        "projects": [{"name": a.name, "normalized": a.name, "last_serial": 12, "newest": 13, "owners": 2}],
        "journal": [
            [11, a.name, "create", ""],
            [12, a.name, f"add py3 file {a.filename}", a.filename],
            [13, a.name, f"add py3 file {a.filename}", a.filename],
        ],
    }
    checks = dict(load_storm.check_storm(plan, [uploader], [reader], snapshot, (1, "1 problem"), before=10))
    assert checks["every planned upload was sent"] == []
    assert len(checks["every upload answered 200"]) == 1
    assert len(checks["every read answered as expected"]) == 1
    lost = checks["every accepted file stored with its sha256"]
    assert any(a.filename in failure and "stored bytes" in failure for failure in lost)
    assert any(b.filename in failure and "no row" in failure for failure in lost)
    duplicates = " ".join(checks["no duplicate files, journal entries or owners"])
    assert "sha256" in duplicates
    assert "2 'add file' journal entries" in duplicates
    assert "2 Owners" in duplicates
    assert "stranger.whl: a file no client sent" in duplicates
    assert checks["serials strictly increasing, last_serial up to date"]
    assert any("never saw [12]" in failure for failure in checks["readers never saw a serial out of order"])
    assert checks["verify_storage --grace-minutes 0"] == ["1 problem"]


def test_the_drill_rewrites_only_its_own_sections():
    top = "# T\n\n## Summary\n\nmine\n\n## Hostile input\n\ntheirs\n\n"
    text = markdown.replace_section(top + "## Faults\n\nold\ntable\n\n## Load\n\nold load\n", "## Faults", "new")
    assert text == top + "## Faults\n\nnew\n\n## Load\n\nold load\n"
    text = markdown.replace_section(text, "## Load", "new load")
    assert text.endswith("## Faults\n\nnew\n\n## Load\n\nnew load\n")
    assert "theirs" in text
    assert (
        markdown.replace_section("# T\n\n## Other\n\nx\n", "## Load", "l") == "# T\n\n## Other\n\nx\n\n## Load\n\nl\n"
    )
