"""``python benchmarks/upload_cost.py``: what one upload costs, on a small and on a big project.

    .venv/bin/python benchmarks/upload_cost.py [--database-url postgres://...] [--files 100] [--releases 4632]

Our index under gunicorn, the production way (``ours.py``), on a throw-away SQLite index
(or a throw-away PostgreSQL database beside ``--database-url``), seeded with one
ccxt-shaped project of ``--releases`` releases (``seed.py``). Then ``--files`` small files
(a wheel and an sdist per version, as ``run.py``'s throughput run) are uploaded one after
another through ``/legacy/`` with an API token, twice: to a new project, and as new versions
of the big project, whose upload cost must not grow with the files it already holds.
Prints, as JSON, files per second, the p50 and the server's CPU time per upload of each run.
Ours only, no peers. To compare two versions, run each copy's in turn, several times: on a
shared machine one run's figures move by half from one run to the next.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ours import Index, throwaway_database
from processes import Server, log
from uploads import Target, upload

BENCH_DIR = Path(__file__).resolve().parent
BIG = "ccxt"


def run(server: Server, target: Target, dists: list[tuple[Path, str, str]]) -> dict:
    """Upload every file one after another, as twine does: files per second, the median, and
    the CPU time of gunicorn's processes per upload (SQLite's work included, PostgreSQL's not),
    which a busy machine disturbs less than the clock."""
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    times = [upload(target, path, name, version) for path, name, version in dists]
    seconds = time.perf_counter() - started
    return {
        "files": len(times),
        "files_per_second": round(len(times) / seconds, 1),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "server_cpu_ms_per_upload": round((server.cpu_seconds() - cpu) * 1000 / len(times), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a postgres:// URL: a throw-away database is made beside it")
    parser.add_argument("--files", type=int, default=100, help="files uploaded per run (100)")
    parser.add_argument("--releases", type=int, default=4632, help="releases of the big project (4632)")
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / ".work")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="upload-cost-", dir=args.workdir) as folder:
        base = Path(folder)
        with throwaway_database(base / "data", args.database_url) as database_url:
            index = Index(base, database_url, access_log=False)
            index.manage("migrate", "--noinput")
            log(f"seed.py --releases {args.releases} ...")
            index.seed(BIG, args.releases, 0)
            index.create_uploader([BIG])
            pairs = max(1, args.files // 2)
            sets = [f"new,upload-bench,{pairs},1,1", f"big,{BIG},{pairs},9000,1"]
            target_dir = base / "dists"
            listing = index.task("write-dists", "--target", str(target_dir), *[a for s in sets for a in ("--set", s)])
            dists = {
                key: [(target_dir / key / item["filename"], item["name"], item["version"]) for item in items]
                for key, items in listing.items()
            }
            try:
                log(f"Starting gunicorn ({index.workers} workers) ...")
                index.start()
                target = Target.with_token(index.port, "/legacy/", index.token)
                results = {}
                for key, label in (("new", "new project"), ("big", f"{BIG} ({args.releases} releases)")):
                    results[label] = figures = run(index.server, target, dists[key])
                    log(
                        f"  {label}: {figures['files_per_second']} files/s, p50 {figures['p50_ms']} ms, "
                        f"server CPU {figures['server_cpu_ms_per_upload']} ms per upload"
                    )
            finally:
                index.server.stop()
    json.dump({"database": "PostgreSQL" if args.database_url else "SQLite", "uploads": results}, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
