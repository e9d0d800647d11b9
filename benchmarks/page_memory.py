"""Memory of the serving processes after N changes to the big project, old code against new.

    .venv/bin/python benchmarks/page_memory.py --baseline /tmp/baseline
    .venv/bin/python benchmarks/page_memory.py --baseline /tmp/baseline --runs 2 --output out.json

``--baseline`` is another copy of the code (``git worktree add /tmp/baseline <commit>``),
served with its own ``gunicorn.conf.py``, ``manage.py`` and ``benchmarks/seed.py`` by the
same interpreter; the copy this file is in is the new code. For each copy, in the same run:

1. a throw-away index (``ours.py``: ``DEBUG=false``, SQLite or ``--database-url``, no
   Redis, the page store in its default place under the data folder), seeded by that
   copy's ``seed.py`` (the ccxt-shaped project and the small ones);
2. gunicorn with ``gunicorn.conf.py``: its own worker count for this machine (the production
   way, each copy's), or ``WEB_CONCURRENCY=--workers`` for both; threads as configured;
3. **warm**: each of the big project's pages (simple JSON, simple HTML, legacy JSON; each
   with and without ``Accept-Encoding: gzip``) is asked for by ``--connections``
   concurrent clients, ``--rounds`` times, so that each worker most likely serves each
   (which worker takes a connection is up to the kernel; per-process RSS is logged);
4. ``--changes`` changes: a new small wheel uploaded to the big project as twine sends it,
   then the same reading of its pages, every answer checked to be a 200 that names the
   new file;
5. once before warming (the row "fresh"), and after the changes listed in ``--at`` (0 is
   after warming), a ``--settle`` second pause, then the total RSS (``/proc/<pid>/status``)
   and PSS (``/proc/<pid>/smaps_rollup``) of the gunicorn master and its workers, and the
   page store's size on disk.

Prints a markdown table per run to stdout, progress to stderr; ``--output`` writes every
figure (per process too) as JSON. Only 127.0.0.1 is contacted. Exit status 2 when a copy
could not be measured (an error answer from the server prints the end of its log).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from client import GZIP, JSON_V1, BenchmarkError, Reply, Request, fetch  # noqa: E402
from ours import Index, throwaway_database  # noqa: E402
from processes import REPO_ROOT, log, memory_kib, proc_kib, run_command, stop_all  # noqa: E402
from uploads import Target, upload  # noqa: E402

PROJECT = "ccxt"
# Versions no seeded release has (seed.py's go up to a few hundred majors).
CHANGE_MAJOR = 9000
HTML = {"Accept": "text/html"}


def big_project_requests(name: str) -> list[tuple[str, Request]]:
    pages = [
        ("simple JSON", Request(f"/simple/{name}/", {"Accept": JSON_V1})),
        ("simple HTML", Request(f"/simple/{name}/", HTML)),
        ("legacy JSON", Request(f"/pypi/{name}/json")),
    ]
    return [
        (f"{label}{suffix}", request.with_headers(**extra))
        for label, request in pages
        for suffix, extra in (("", {}), (", gzip", GZIP))
    ]


# ---------------------------------------------------------------- figures


def rollup_kib(pid: int) -> dict[str, int]:
    """``Pss`` (shared pages divided among the processes that map them) and ``Anonymous``
    (the heap's share, as opposed to mapped files) from ``/proc/<pid>/smaps_rollup``."""
    return proc_kib(pid, "smaps_rollup", ("Pss", "Anonymous"))


def disk_usage(folder: Path) -> dict | None:
    """Bytes on disk (allocated blocks, as du counts them), bytes of content and files under ``folder``."""
    if not folder.exists():
        return None
    allocated = content = files = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(OSError):
                stat = os.lstat(os.path.join(root, name))
                allocated += stat.st_blocks * 512
                content += stat.st_size
                files += 1
    return {"allocated": allocated, "content": content, "files": files}


def snapshot(index: Index, changes: int) -> dict:
    master = index.server.pid
    processes = []
    for pid in index.server.pids():
        rollup = rollup_kib(pid)
        processes.append(
            {
                "pid": pid,
                "role": "master" if pid == master else "worker",
                "rss_kib": memory_kib(pid).get("VmRSS", 0),
                "pss_kib": rollup.get("Pss", 0),
                "anonymous_kib": rollup.get("Anonymous", 0),
            }
        )
    return {
        "changes": changes,
        "processes": processes,
        "rss_kib": sum(p["rss_kib"] for p in processes),
        "pss_kib": sum(p["pss_kib"] for p in processes),
        "anonymous_kib": sum(p["anonymous_kib"] for p in processes),
        "store": disk_usage(index.data_dir / "pages"),
        "load": os.getloadavg()[0],
    }


# ---------------------------------------------------------------- the index of one copy of the code


class CopyIndex(Index):
    """ours.py's index, but every command (gunicorn, manage.py, seed.py, django_tasks.py) from ``source``."""

    def __init__(
        self, source: Path, base: Path, database_url: str, workers: int | None, extra_env: dict[str, str]
    ) -> None:
        super().__init__(base, database_url)
        self.source = source
        # gunicorn.conf.py's defaults, unless --workers
        self.env.pop("GUNICORN_THREADS", None)
        self.env.pop("WEB_CONCURRENCY", None)
        if workers is not None:
            self.env["WEB_CONCURRENCY"] = str(workers)
        self.env.update(extra_env)
        self.server.cwd = source

    def manage(self, *args: str) -> str:
        return run_command([sys.executable, "manage.py", *args], env=self.env, cwd=self.source)

    def task(self, *args: str, stdin: str | None = None):
        script = str(self.source / "benchmarks" / "django_tasks.py")
        return json.loads(run_command([sys.executable, script, *args], env=self.env, cwd=self.source, stdin=stdin))

    def seed(self, project: str, releases: int, small_projects: int) -> str:
        script = str(self.source / "benchmarks" / "seed.py")
        arguments = ["--releases", str(releases), "--small-projects", str(small_projects), "--project-name", project]
        command = [sys.executable, script, *arguments, "--with-files", "--force"]
        return run_command(command, env=self.env, cwd=self.source)

    def create_uploader(self, projects: list[str]) -> None:
        script = str(self.source / "benchmarks" / "django_tasks.py")
        owner_of = [arg for project in projects for arg in ("--owner-of", project)]
        command = [sys.executable, script, "create-uploader", *owner_of]
        self.token = run_command(command, env=self.env, cwd=self.source).strip()


def _body(reply: Reply) -> bytes:
    if reply.headers.get("content-encoding") == "gzip":
        return gzip.decompress(reply.body)
    return reply.body


def read_pages(index: Index, requests: list[tuple[str, Request]], args, must_name: str = "") -> float:
    """Each request by ``--connections`` clients at once, ``--rounds`` times; every answer a 200
    (naming ``must_name`` when given). Returns the seconds it all took."""
    started = time.monotonic()
    with ThreadPoolExecutor(args.connections) as pool:
        for label, request in requests:
            for _ in range(args.rounds):
                for reply in pool.map(lambda _n, r=request: fetch(index.port, r), range(args.connections)):
                    if reply.status != 200:
                        raise BenchmarkError(
                            f"{label} {request.path} answered {reply.status}: {reply.body[:500]!r}\n"
                            f"--- gunicorn log\n{index.server.log_tail(120)}"
                        )
                    if must_name and must_name.encode() not in _body(reply):
                        raise BenchmarkError(f"{label} {request.path} does not name {must_name} after its upload")
    return time.monotonic() - started


def measure_copy(label: str, source: Path, base: Path, args, wheels: list[dict]) -> dict:
    log(f"[{label}] {source}")
    result: dict = {"label": label, "source": str(source), "points": []}
    with throwaway_database(base / "data", args.database_url) as database_url:
        index = CopyIndex(source, base, database_url, args.workers, args.server_env)
        started = time.monotonic()
        index.manage("migrate", "--noinput")
        log(f"[{label}] seed.py --releases {args.releases} --small-projects {args.small_projects} ...")
        log(index.seed(PROJECT, args.releases, args.small_projects).strip())
        index.create_uploader([PROJECT])
        result["seed_seconds"] = time.monotonic() - started
        requests = big_project_requests(PROJECT)
        target = Target.with_token(index.port, index.upload_path, index.token)
        try:
            index.start()
            booted = len(index.server.workers())
            result["workers"] = booted
            log(f"[{label}] gunicorn up, {booted} workers; warming ...")
            time.sleep(args.settle)
            result["fresh"] = snapshot(index, -1)
            log(f"[{label}] fresh: RSS {result['fresh']['rss_kib'] / 1024:.0f} MiB")
            result["warm_seconds"] = read_pages(index, requests, args)
            readings = []
            for changes in range(args.changes + 1):
                if changes:
                    wheel = wheels[changes - 1]
                    upload(target, Path(wheel["path"]), wheel["name"], wheel["version"])
                    readings.append(read_pages(index, requests, args, must_name=wheel["filename"]))
                if changes in args.at:
                    time.sleep(args.settle)
                    point = snapshot(index, changes)
                    result["points"].append(point)
                    store = point["store"]
                    on_disk = f", store {store['allocated'] / 2**20:.1f} MiB in {store['files']} files" if store else ""
                    workers = ", ".join(f"{p['rss_kib'] / 1024:.0f}" for p in point["processes"])
                    log(
                        f"[{label}] after {changes} changes: RSS {point['rss_kib'] / 1024:.0f} MiB "
                        f"(per process {workers}), PSS {point['pss_kib'] / 1024:.0f} MiB, "
                        f"anonymous {point['anonymous_kib'] / 1024:.0f} MiB{on_disk}"
                    )
            result["reading_seconds"] = readings
        finally:
            index.server.stop()
    return result


def write_wheels(folder: Path, count: int) -> list[dict]:
    """``count`` small valid wheels of the big project (versions the seed does not have), made by
    the new copy's django_tasks.py (seed.py's archive builders), and where they are."""
    scratch = Path(tempfile.mkdtemp(prefix="wheels-", dir=folder))
    with throwaway_database(scratch / "data", None) as database_url:
        index = Index(scratch, database_url)
        wanted = f"changes,{PROJECT},{count},{CHANGE_MAJOR},0"
        listing = index.task("write-dists", "--target", str(folder), "--set", wanted)
    return [{**one, "path": str(folder / "changes" / one["filename"])} for one in listing["changes"]]


def remove(folder: Path) -> None:
    # rm is several times faster than shutil.rmtree on the seeded tens of thousands of files.
    subprocess.run(["rm", "-rf", str(folder)], check=False)  # noqa: S603, S607


# ---------------------------------------------------------------- report


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def table(run: dict) -> str:
    old, new = run["old"], run["new"]
    counts = f" ({old['workers']} / {new['workers']} workers)" if old["workers"] != new["workers"] else ""
    lines = [
        f"| changes{counts} | RSS old | RSS new | PSS old | PSS new | store on disk (new) |",
        "|---|---|---|---|---|---|",
    ]
    pairs = [(old["fresh"], new["fresh"]), *zip(old["points"], new["points"], strict=True)]
    for before, after in pairs:
        store = after["store"]
        on_disk = f"{store['allocated'] / 2**20:.1f} MiB ({store['files']} files)" if store else "–"
        changes = "fresh (not warmed)" if after["changes"] < 0 else after["changes"]
        lines.append(
            f"| {changes} | {mib(before['rss_kib'])} | {mib(after['rss_kib'])} | "
            f"{mib(before['pss_kib'])} | {mib(after['pss_kib'])} | {on_disk} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="the old copy of the code")
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--at", default="0,5,10,20", help="after which changes to measure")
    parser.add_argument(
        "--workers", type=int, default=None, help="WEB_CONCURRENCY of both (default: each copy's gunicorn.conf.py)"
    )
    parser.add_argument("--connections", type=int, default=8, help="concurrent clients per reading")
    parser.add_argument("--rounds", type=int, default=3, help="readings of each page per warm-up or change")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds between reading and measuring")
    parser.add_argument("--releases", type=int, default=4632)
    parser.add_argument("--small-projects", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="a postgres:// server (default: SQLite)")
    parser.add_argument("--runs", type=int, default=1, help="old and new, this many times (alternating order)")
    parser.add_argument("--output", type=Path, help="every figure as JSON")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE", help="for both servers, e.g. an allocator's"
    )
    args = parser.parse_args()
    args.server_env = dict(one.split("=", 1) for one in args.server_env)
    args.at = sorted({int(n) for n in args.at.split(",") if int(n) <= args.changes})
    copies = {"old": args.baseline.resolve(), "new": REPO_ROOT}
    for label, source in copies.items():
        if not (source / "gunicorn.conf.py").exists() or not (source / "benchmarks" / "seed.py").exists():
            parser.error(f"{label} copy {source} has no gunicorn.conf.py or benchmarks/seed.py")

    results = {
        "date": datetime.now(UTC).isoformat(timespec="minutes"),
        "settings": {k: v for k, v in vars(args).items() if k not in ("output", "baseline")},
        "copies": {label: str(source) for label, source in copies.items()},
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
        "runs": [],
    }
    work = Path(tempfile.mkdtemp(prefix="page-memory-"))
    try:
        wheels = write_wheels(work, args.changes)
        for number in range(args.runs):
            order = ["old", "new"] if number % 2 == 0 else ["new", "old"]
            run = {}
            for label in order:
                base = work / f"run{number + 1}-{label}"
                run[label] = measure_copy(label, copies[label], base, args, wheels)
                remove(base)
            results["runs"].append(run)
            log(f"run {number + 1} done")
        results["load_after"] = os.getloadavg()[0]
    except BenchmarkError as exc:
        log(f"The benchmark could not run: {exc}")
        return 2
    finally:
        stop_all()
        remove(work)
    if args.output:
        args.output.write_text(json.dumps(results, indent=1))
    extra = "".join(f", {name}={value}" for name, value in args.server_env.items())
    workers = f"{args.workers} workers" if args.workers else "each copy's own workers (gunicorn.conf.py)"
    print(
        f"{results['date']}: {workers}{extra}, the big project `{PROJECT}` ({args.releases} releases), "
        f"{args.changes} changes, load average {results['load_before']:.1f} before and "
        f"{results['load_after']:.1f} after on {results['cpus']} CPUs.\n"
    )
    for number, run in enumerate(results["runs"], 1):
        print(f"Run {number}:\n\n{table(run)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
