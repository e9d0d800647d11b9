"""Load storm: parallel uploads and readers against the real server, then count what was lost.

Starts the real index (production settings, gunicorn with two workers per core)
on a throw-away PostgreSQL database on 127.0.0.1 (``--database sqlite`` for the
embedded default), then, at once:

- ``--clients`` upload clients (default 8) each post ``--uploads`` small valid
  wheels (default 100) as twine's multipart form: most go to a few projects
  all clients share, every fifth creates a new project, every tenth repeats
  the client's previous file (which must answer 200 and change nothing);
- ``--readers`` readers (default 8) fetch simple pages of the shared projects
  and poll the events feed (``/api/v1/events/?since=``) as a mirror would.

Then, through the database and the storage: every answer was expected (200 for
every upload; no 5xx, no connection error, no 404 for a project whose upload
was already answered); every accepted file is stored once, with the right
sha256, size and journal entry; no duplicate rows; every project's
``last_serial`` is its newest journal entry; each reader saw serials strictly
increasing and never one appear below a serial it had already seen (the set it
saw is every serial up to its last); simple pages' serial never went back;
``manage.py verify_storage --grace-minutes 0`` finds nothing.

    .venv/bin/python benchmarks/load_storm.py                       # 8 x 100 on PostgreSQL
    .venv/bin/python benchmarks/load_storm.py --uploads 20 --database sqlite
    .venv/bin/python benchmarks/load_storm.py --postgres-url postgres://postgres@127.0.0.1:5432/pyindex_load

The throw-away database is named after ``--postgres-url``'s (``<name>_<random>``)
and dropped at the end. Only 127.0.0.1 is contacted. Prints markdown tables
(throughput, latency p50/p99 per kind, and the checks) to stdout, progress to
stderr. Exit status: 0 nothing lost and nothing out of order, 1 a check failed
(each failure is listed), 2 the storm could not run. ``--timeout`` bounds the
whole run (default 600 s): uploads not started by then count as a failure.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from harness.load_storm import DEFAULT_POSTGRES_URL, Config, StormError, log, postgres_reachable, run_storm  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="upload clients (default 8)")
    parser.add_argument("--uploads", type=int, default=100, help="uploads per client (default 100)")
    parser.add_argument("--readers", type=int, default=8, help="readers of simple pages and events (default 8)")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("LOAD_STORM_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server and name stem of the throw-away database (127.0.0.1 only)",
    )
    parser.add_argument("--workers", type=int, default=2 * multiprocessing.cpu_count(), help="gunicorn workers")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole storm (default 600)")
    parser.add_argument("--tmpdir", default=None, help="where the throw-away folder goes")
    args = parser.parse_args(argv)
    if min(args.clients, args.uploads, args.workers) < 1 or args.readers < 0:
        parser.error("--clients, --uploads and --workers must be at least 1, --readers at least 0")
    config = Config(
        clients=args.clients,
        uploads=args.uploads,
        readers=args.readers,
        database=args.database,
        postgres_url=args.postgres_url,
        workers=args.workers,
        timeout=args.timeout,
        tmpdir=args.tmpdir,
    )
    try:
        if config.database == "postgres":
            why = postgres_reachable(config.postgres_url)
            if why:
                raise StormError(f"PostgreSQL at {config.postgres_url} is not reachable: {why}")
        result = run_storm(config)
    except (StormError, OSError, RuntimeError) as error:
        log(f"the storm could not run: {error}")
        return 2
    print(result.markdown())
    for problem in result.problems:
        log(f"FAILED {problem}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
