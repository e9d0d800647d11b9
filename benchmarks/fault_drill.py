"""Fault drill: rerun the fault tests and the load storm, and write their tables into docs/reliability.md.

The faults are ordinary tests (they also run in the normal suite); this script
runs them once on SQLite and once on PostgreSQL (when a server answers on
127.0.0.1), records each test's outcome through a small pytest plugin (this
module, loaded with ``-p benchmarks.fault_drill``), runs
``benchmarks/load_storm.py``'s storm, and rewrites the ``## Faults`` and
``## Load`` sections of ``docs/reliability.md`` (nothing else in the file).

    .venv/bin/python benchmarks/fault_drill.py                  # faults + the 8 x 100 storm, docs rewritten
    .venv/bin/python benchmarks/fault_drill.py --print          # print the sections instead
    .venv/bin/python benchmarks/fault_drill.py --skip-load      # faults only (the Load section is kept)
    .venv/bin/python benchmarks/fault_drill.py --postgres-url postgres://postgres@127.0.0.1:5432/pyindex_drill

pytest-django makes its test database ``test_<name of --postgres-url>``; the
end-to-end tests and the storm make throw-away databases named
``<name>_storm_<random>``, and drop them. Exit status: 0 when every fault test
passed (or was skipped for a stated reason) and the storm lost nothing, 1
otherwise, 2 when the drill could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DOC = REPO_ROOT / "docs" / "reliability.md"
RESULTS_VARIABLE = "FAULT_DRILL_RESULTS"
FAULT_TEST_FILES = (
    "tests/functional/test_upload_faults.py",
    "tests/functional/test_faults_storage.py",
    "tests/functional/test_faults_database.py",
    "tests/functional/test_verify_storage.py",
    "tests/e2e/test_worker_kill.py",
)
PYTEST_TIMEOUT = 1200

# What each fault test injects and what it leaves, in the order of the table.
# (test function name, fault, how it is injected, what stays behind by design)
FAULTS = (
    (
        "test_read_only_storage_refuses_the_upload_and_changes_nothing",
        "Storage write fails (the whole store read-only), existing and new project",
        "`chattr +i` on the real storage folder (`chmod` when not root): the kernel refuses",
        "nothing; `503`, retry `200`",
    ),
    (
        "test_storage_failing_mid_write_leaves_nothing",
        "Storage write fails half-way, first 100 bytes at the real path",
        "backend `_save` writes 100 bytes then raises",
        "nothing; `503`, retry `200`",
    ),
    (
        "test_metadata_write_failing_after_the_distribution_was_stored",
        "Storage write fails on the `.metadata` after the wheel was stored",
        "backend `_save` raises ENOSPC for `.metadata`",
        "nothing (the stored wheel is removed); `503`, retry `200`",
    ),
    (
        "test_database_failing_mid_transaction_leaves_nothing",
        "Database fails mid-transaction: at the file row, at its journal entry, at a new project's Owner role",
        "a trigger that fails (SQLite: a connection function that raises; PostgreSQL: PL/pgSQL `RAISE`)",
        "nothing; stored bytes removed; `503`, retry `200`",
    ),
    (
        "test_a_constraint_the_code_does_not_expect_is_a_failure_not_a_duplicate",
        "Database raises an unexpected constraint violation",
        "a trigger raising a CHECK violation on the file row",
        "nothing; `503` (was `400 File already exists`, fixed)",
    ),
    (
        "test_database_failing_after_the_file_is_stored_leaves_nothing",
        "Database error after the bytes were stored",
        "`add_file` raises `DatabaseError`",
        "nothing; `503`, retry `200`",
    ),
    (
        "test_failure_creating_a_new_project_leaves_no_project",
        "Database error while creating a new project",
        "`add_file` raises `DatabaseError`",
        "nothing: no project, no journal entry, no bytes",
    ),
    (
        "test_connection_terminated_by_the_server_mid_transaction",
        "Database connection killed mid-transaction (PostgreSQL)",
        "`pg_terminate_backend` from another session while the transaction sleeps in a trigger after its rows",
        "nothing; `503`, retry `200`",
    ),
    (
        "test_database_and_then_the_clean_up_failing_leave_only_an_orphan",
        "Database fails, then the clean-up's storage delete fails too",
        "`add_file` raises `DatabaseError`; backend `delete` raises EIO",
        "an orphan (bytes, no row): not served, reported, removed by `verify_storage --repair`",
    ),
    (
        "test_read_only_storage_on_delete_leaves_an_orphan_never_a_row_without_bytes",
        "Storage delete fails: file deleted through the service and through the admin",
        "`chattr +i` on the real storage folder",
        "an orphan, as above; the row, journal entry and registered name are right",
    ),
    (
        "test_delete_failing_in_storage_is_logged_not_raised",
        "Storage delete raises (service and admin)",
        "backend `delete` raises EIO",
        "an orphan, as above, and an ERROR log line",
    ),
    (
        "test_database_failing_during_a_delete_keeps_row_and_bytes",
        "Database fails during a file delete",
        "a trigger failing on the delete's journal entry",
        "nothing: row and bytes both stay (bytes are removed only after commit)",
    ),
    (
        "test_worker_killed_while_the_body_streams",
        "gunicorn worker SIGKILLed while the upload body streams",
        "real gunicorn; the worker holding the connection found through `/proc/net/tcp`",
        "nothing in the index; Django's temporary upload file in the server's `TMPDIR`",
    ),
    (
        "test_worker_killed_after_storing_before_the_row_commits",
        "gunicorn worker SIGKILLed after storing, before its row commits",
        "the test holds the write lock (SQLite `BEGIN IMMEDIATE`, PostgreSQL the journal's advisory lock)",
        "an orphan, within the grace period; the retry gives it its row",
    ),
    (
        "test_worker_killed_inside_the_transaction_after_its_rows",
        "gunicorn worker SIGKILLed inside the write transaction, rows written (PostgreSQL)",
        "a trigger sleeps after the file's journal entry; the worker is killed there",
        "an orphan until the retry; no row, no journal entry",
    ),
)


# ---------------------------------------------------------------- the pytest plugin


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def pytest_runtest_logreport(report) -> None:
    """Append one JSON line per test outcome to the file named by $FAULT_DRILL_RESULTS."""
    out = os.environ.get(RESULTS_VARIABLE)
    if not out:
        return
    interesting = report.when == "call" or report.outcome != "passed"
    if not interesting:
        return
    record = {
        "nodeid": report.nodeid,
        "when": report.when,
        "outcome": report.outcome,
        "seconds": round(report.duration, 3),
        "reason": _skip_reason(report) if report.skipped else "",
        "failure": str(report.longrepr)[-1500:] if report.failed else "",
    }
    with open(out, "a") as handle:
        handle.write(json.dumps(record) + "\n")


# ---------------------------------------------------------------- running the tests


@dataclass
class Outcome:
    nodeid: str
    outcome: str  # passed, failed, skipped
    reason: str
    failure: str

    @property
    def function(self) -> str:
        return self.nodeid.split("::")[-1].split("[")[0]


def log(message: str) -> None:
    print(f"[fault-drill] {message}", file=sys.stderr, flush=True)


def run_fault_tests(database_url: str | None) -> list[Outcome]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    if database_url:
        env["DATABASE_URL"] = database_url
    with tempfile.NamedTemporaryFile(prefix="fault-drill-", suffix=".jsonl", delete=False) as handle:
        results = Path(handle.name)
    env[RESULTS_VARIABLE] = str(results)
    command = [sys.executable, "-m", "pytest", *FAULT_TEST_FILES, "-q", "-p", "no:cacheprovider"]
    command += ["-p", "benchmarks.fault_drill"]
    try:
        completed = subprocess.run(  # noqa: S603 - our own interpreter and test files
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=PYTEST_TIMEOUT
        )
        log(completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else "(no pytest output)")
        records = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    finally:
        results.unlink(missing_ok=True)
    if not records:
        raise RuntimeError(f"pytest ran no test:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    outcomes: dict[str, Outcome] = {}
    for record in records:
        # A failure in teardown after a passing call still fails the test.
        previous = outcomes.get(record["nodeid"])
        if previous is not None and previous.outcome == "failed":
            continue
        outcomes[record["nodeid"]] = Outcome(record["nodeid"], record["outcome"], record["reason"], record["failure"])
    return list(outcomes.values())


def _cell(outcomes: list[Outcome]) -> str:
    if not outcomes:
        return "not run"
    failed = [o for o in outcomes if o.outcome == "failed"]
    skipped = [o for o in outcomes if o.outcome == "skipped"]
    passed = [o for o in outcomes if o.outcome == "passed"]
    if failed:
        return f"**FAILED** ({len(failed)} of {len(outcomes)})"
    if skipped and not passed:
        return f"skipped: {skipped[0].reason}"
    return f"passed ({len(passed)})" if len(passed) > 1 else "passed"


WRITE_ORDER = """\
The index orders its writes so that a fault can leave at most an *orphan* (stored bytes
no row points at), never a row without its bytes:

- **Upload**: the bytes are stored first (local storage writes a temporary file and renames
  it, so no half file ever sits at a real path), then one transaction, under the index's
  write lock, writes project, release, file, filename registry and journal entries. If
  that fails, the stored bytes are removed again under the same lock, and the client gets
  `503 ... nothing was changed. Try again.`
- **Delete** (service, admin, API): the row and its journal entry go in one transaction;
  the bytes are removed only once it has committed. If removing them fails, they stay as an
  orphan. The other order would remove bytes for good before the row's delete is certain,
  and a rollback would then leave a row without its bytes: a loss.
- An orphan is never served (downloads are looked up through the rows), can never be
  mistaken for a new upload (its path is content-addressed and its filename stays
  registered), and `manage.py verify_storage --repair` removes it once it is older than the
  grace period.
"""


def faults_section(runs: dict[str, list[Outcome]], command: str) -> str:
    databases = list(runs)
    lines = [
        WRITE_ORDER,
        f"Produced by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"({platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}). Each row is one test (parametrised tests count every case); "
        "after every fault the test compares the whole index with its state before (rows, filename registry, "
        "journal, serials, stored files), runs `verify_storage`'s check with no grace period (all but the three "
        "older tests of `test_upload_faults.py`) and, where an upload failed, retries it.",
        "",
        "| fault injected | how | " + " | ".join(databases) + " | left behind by design | lost |",
        "|---|---|" + "---|" * len(databases) + "---|---|",
    ]
    listed = set()
    for function, fault, how, left in FAULTS:
        cells = []
        any_failed = False
        for database in databases:
            matching = [o for o in runs[database] if o.function == function]
            any_failed |= any(o.outcome == "failed" for o in matching)
            cells.append(_cell(matching))
        listed.add(function)
        lost = "**see the failing test**" if any_failed else "nothing"
        lines.append(f"| {fault} | {how} | " + " | ".join(cells) + f" | {left} | {lost} |")
    verify = [
        [o for o in runs[database] if "test_verify_storage" in o.nodeid and o.function not in listed]
        for database in databases
    ]
    listed.update(o.function for outcomes in verify for o in outcomes)
    lines.append(
        "| `verify_storage` itself: missing, truncated and corrupt files and `.metadata`, orphans, stale "
        "temporary files, unjournaled rows, repair and the yanks of --quarantine | real damage done to real uploads | "
        + " | ".join(_cell(outcomes) for outcomes in verify)
        + " | — | "
        + ("**see the failing test**" if any(o.outcome == "failed" for v in verify for o in v) else "nothing")
        + " |"
    )
    others = sorted({o.nodeid for outcomes in runs.values() for o in outcomes if o.function not in listed})
    if others:
        lines += ["", "Also run, not in the table above: " + ", ".join(f"`{nodeid}`" for nodeid in others) + "."]
    failures = [(database, o) for database, outcomes in runs.items() for o in outcomes if o.outcome == "failed"]
    for database, outcome in failures:
        lines += ["", f"**Failed on {database}: `{outcome.nodeid}`**", "", "```", outcome.failure.strip(), "```"]
    return "\n".join(lines)


LOAD_INTRO = """\
`benchmarks/load_storm.py` starts the real server (gunicorn, `gunicorn.conf.py`'s workers,
production settings) on a throw-away PostgreSQL database on 127.0.0.1. Eight upload
clients each post 100 small valid wheels as twine does: most to four projects all
clients share, every fifth to a project of its own (created by that upload), every tenth
the client's previous file again (`200`, nothing changes). At the same time eight readers
fetch the shared projects' simple pages and poll `/api/v1/events/?since=` as a mirror
would. Afterwards it checks, through the database and the storage, everything in the
second table; it exits non-zero on any failure. A small storm (4 x 10, 2 readers) runs in
the normal test suite, on SQLite and on PostgreSQL (`tests/e2e/test_load_storm_small.py`),
with a test that the checks do catch a lost file, a duplicate and a serial seen out of
order.
"""


def load_section(storm_markdown: str, uploads: int, command: str) -> str:
    script = "benchmarks/load_storm.py" + ("" if uploads == 100 else f" --uploads {uploads}")
    return (
        f"{LOAD_INTRO}\nProduced by `{script}` (run by `{command}`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
        "The machine also ran other test suites at the time: the load average below is the machine's, "
        "not the storm's alone, and the figures are a floor, not a capacity.\n\n" + storm_markdown
    )


# ---------------------------------------------------------------- the document


def write_sections(sections: dict[str, str]) -> None:
    from harness import markdown  # main() put the checkout on sys.path

    text = DOC.read_text() if DOC.exists() else "# Reliability and security\n"
    for heading, body in sections.items():
        text = markdown.replace_section(text, heading, body)
    DOC.write_text(text.rstrip("\n") + "\n")


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(REPO_ROOT))
    from harness import load_storm

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("LOAD_STORM_POSTGRES_URL", load_storm.DEFAULT_POSTGRES_URL),
        help="PostgreSQL on 127.0.0.1 for the second run and the storm",
    )
    parser.add_argument("--print", action="store_true", help="print the sections instead of rewriting the doc")
    parser.add_argument("--skip-load", action="store_true", help="run the faults only")
    parser.add_argument("--uploads", type=int, default=100, help="uploads per storm client (default 100)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the storm (default 600)")
    args = parser.parse_args(argv)
    command = "benchmarks/fault_drill.py" + (" --skip-load" if args.skip_load else "")

    started = time.monotonic()
    runs: dict[str, list[Outcome]] = {}
    try:
        log("fault tests on SQLite")
        runs["SQLite"] = run_fault_tests(None)
        why = load_storm.postgres_reachable(args.postgres_url)
        if why:
            log(f"no PostgreSQL at {args.postgres_url}: {why}")
        else:
            log("fault tests on PostgreSQL")
            runs["PostgreSQL"] = run_fault_tests(args.postgres_url)
        sections = {"## Faults": faults_section(runs, command)}
        storm = None
        if not args.skip_load:
            database = "sqlite" if why else "postgres"
            log(f"load storm on {database}: 8 clients x {args.uploads} uploads, 8 readers")
            storm = load_storm.run_storm(
                load_storm.Config(
                    uploads=args.uploads, database=database, postgres_url=args.postgres_url, timeout=args.timeout
                )
            )
            sections["## Load"] = load_section(storm.markdown(), args.uploads, command)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, load_storm.StormError) as error:
        log(f"the drill could not run: {error}")
        return 2
    if args.print:
        for heading, body in sections.items():
            print(f"{heading}\n\n{body}\n")
    else:
        write_sections(sections)
        log(f"rewrote {', '.join(sections)} in {DOC.relative_to(REPO_ROOT)}")
    failed = [o.nodeid for outcomes in runs.values() for o in outcomes if o.outcome == "failed"]
    for nodeid in failed:
        log(f"FAILED {nodeid}")
    if storm is not None:
        for problem in storm.problems:
            log(f"LOAD FAILED {problem}")
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0 if not failed and (storm is None or storm.ok) else 1


if __name__ == "__main__":
    sys.exit(main())
