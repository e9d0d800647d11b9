"""Private reads: the simple API read with a read-only token beside anonymous reads, in one run.

    .venv/bin/python benchmarks/private_reads.py [--runs 5] [--requests 200] [--duration 3]

Seeds a throw-away index (``seed.py``: ccxt's 4,632 releases and 9,264 files, 10,000 small
projects) and serves it with two gunicorns on the same data, the production way
(``ours.py``: ``gunicorn.conf.py``, ``DEBUG=false``, SQLite or ``--database-url``): one with
``READ_ACCESS=public``, one with ``READ_ACCESS=authenticated``. A user with no role holds a
read-only token (``manage.py create_token --read-only``). Each page is read three ways:

- ``anonymous``: no credentials, on the public server (reads as before private reads);
- ``token, public``: HTTP Basic ``__token__:<token>`` on the public server (the check alone);
- ``token, private``: the same on the authenticated server (a private index as shipped).

Pages: ``/simple/ccxt/`` and ``/simple/``, PEP 691 JSON with ``Accept-Encoding: gzip``, as pip
asks. Before measuring: an anonymous read of the private server must be a 401, and every way
must get the same bytes. Then, per run and page: requests one at a time, each on a new
connection (``client.py``), interleaved across the ways (one of each in turn), for p50 and p90;
then a load run per way in turn (``load.py``: wrk, or a Python generator) for req/s and the
server's CPU time per request. The ways' order rotates from run to run. Printed (markdown, on
stdout): the median over the runs of each figure, and of each run's ratio token / anonymous.
Target: a private index's reads within 1.5x of anonymous ones (p50 ratio at most 1.5, req/s
ratio at least 1/1.5).

Exit status 0 when the target holds, 1 when it does not, 2 when the benchmark could not run.
Every process it starts is stopped at the end. Linux only (it reads /proc).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from client import GZIP, JSON_V1, BenchmarkError, Request, expect, fetch, percentile
from endpoints import warm
from load import LoadTool
from ours import Index, throwaway_database
from processes import Server, log, stop_all

from harness.load_storm import basic  # ours put the checkout on sys.path

BENCH_DIR = Path(__file__).resolve().parent
READER = "benchmark-reader"
TARGET = 1.5
PAGES = {"ccxt JSON": "/simple/{project}/", "root JSON": "/simple/"}


@dataclass(frozen=True)
class Way:
    """One way of reading: a server and the headers sent to it."""

    name: str
    server: Server
    authorization: str = ""

    def request(self, path: str) -> Request:
        headers = {"Accept": JSON_V1, **GZIP}
        if self.authorization:
            headers["Authorization"] = self.authorization
        return Request(path, headers)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs; the figures are their medians (5)")
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per way, page and run (200)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of load per way, page and run (3)")
    parser.add_argument("--connections", type=int, default=8, help="connections of the load runs (8)")
    parser.add_argument("--releases", type=int, default=4632, help="releases of the big project (4632)")
    parser.add_argument("--small-projects", type=int, default=10_000, help="one-release projects (10000)")
    parser.add_argument("--database-url", help="a postgres:// URL: a throw-away database made beside it")
    parser.add_argument("--python-load", action="store_true", help="a Python load generator even if wrk is there")
    parser.add_argument("--no-access-log", action="store_true", help="send gunicorn.conf.py's access log to /dev/null")
    parser.add_argument("--output", type=Path, help="also write every run's figures here, as JSON")
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / ".work", help="where the throw-away folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the throw-away folder (its path is printed)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.requests < 2:
        parser.error("--runs must be at least 1 and --requests at least 2")
    if args.database_url and not args.database_url.startswith("postgres"):
        parser.error("--database-url takes a postgres:// URL (SQLite is the default)")
    args.project = "ccxt"
    return args


# ---------------------------------------------------------------- setup


def read_only_token(index: Index) -> str:
    """A user with no role and no staff flag, and its read-only token."""
    code = f"from django.contrib.auth import get_user_model\nget_user_model().objects.create_user({READER!r})"
    index.manage("shell", "--verbosity", "0", "-c", code)
    return index.manage("create_token", READER, "--read-only", "--name", "private-reads benchmark").strip()


def check(ways: list[Way], paths: list[str]) -> dict[str, dict[str, str]]:
    """Every way gets the same bytes of every page, and the private server refuses an anonymous read;
    returns each way's ``Cache-Control`` per page."""
    private = next(way.server for way in ways if way.name == "token, private")
    refused = fetch(private.port, Way("anonymous", private).request(paths[0]))
    if refused.status != 401 or "basic" not in refused.headers.get("www-authenticate", "").lower():
        raise BenchmarkError(f"the READ_ACCESS=authenticated server answered an anonymous read {refused.status}")
    cache_control: dict[str, dict[str, str]] = {}
    for path in paths:
        bodies = {}
        for way in ways:
            reply = expect(way.server.port, way.request(path))
            bodies[way.name] = reply.body
            cache_control.setdefault(path, {})[way.name] = reply.headers.get("cache-control", "")
        if len(set(bodies.values())) != 1:
            sizes = ", ".join(f"{name} {len(body):,} B" for name, body in bodies.items())
            raise BenchmarkError(f"{path}: the ways got different bodies ({sizes})")
    return cache_control


# ---------------------------------------------------------------- one run


def rotated(ways: list[Way], run: int) -> list[Way]:
    shift = run % len(ways)
    return ways[shift:] + ways[:shift]


def measure_run(ways: list[Way], path: str, args, tool: LoadTool, run: int) -> dict[str, dict]:
    """One run of one page: sequential requests interleaved across the ways, then a load run per way."""
    order = rotated(ways, run)
    times: dict[str, list[float]] = {way.name: [] for way in ways}
    for _ in range(args.requests):
        for way in order:
            times[way.name].append(expect(way.server.port, way.request(path)).seconds)
    figures = {}
    for way in order:
        load = tool.run(way.server.port, way.request(path), args.duration, way.server)
        if load.errors:
            raise BenchmarkError(f"{way.name} {path}: {load.errors} errors under load")
        figures[way.name] = {
            "p50_ms": percentile(times[way.name], 50) * 1000,
            "p90_ms": percentile(times[way.name], 90) * 1000,
            "rps": load.rps,
            "cpu_ms": load.server_cpu_ms,
            "load_p99_ms": load.p99_ms,  # wrk's, under load (None with the Python generator)
        }
    return figures


# ---------------------------------------------------------------- summary

FIGURES = (("p50_ms", "p50 ms"), ("p90_ms", "p90 ms"), ("rps", "req/s"), ("cpu_ms", "server CPU ms/req"))


def summary(runs: list[dict[str, dict[str, dict]]], baseline: str = "anonymous") -> dict[str, dict[str, dict]]:
    """Per page and way: the median over the runs of each figure, and of each run's ratio to ``baseline``."""
    found: dict[str, dict[str, dict]] = {}
    for page in runs[0]:
        for way in runs[0][page]:
            row = found.setdefault(page, {}).setdefault(way, {})
            for key, _ in FIGURES:
                values = [run[page][way][key] for run in runs if run[page][way][key] is not None]
                row[key] = statistics.median(values) if values else None
                if way != baseline:
                    ratios = [run[page][way][key] / run[page][baseline][key] for run in runs
                              if run[page][way][key] is not None and run[page][baseline][key]]  # fmt: skip
                    row[f"{key}_ratio"] = statistics.median(ratios) if ratios else None
    return found


def verdicts(found: dict[str, dict[str, dict]]) -> list[tuple[str, float, bool]]:
    """The target, per page, for the private index: p50 ratio at most 1.5, req/s ratio at least 1/1.5."""
    checks = []
    for page, ways in found.items():
        private = ways["token, private"]
        checks.append((f"{page}: p50, token / anonymous", private["p50_ms_ratio"], private["p50_ms_ratio"] <= TARGET))
        checks.append((f"{page}: req/s, token / anonymous", private["rps_ratio"], private["rps_ratio"] >= 1 / TARGET))
    return checks


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def render(found: dict[str, dict[str, dict]], meta: dict) -> str:
    lines = [
        f"Private reads, {meta['date']}: {meta['runs']} runs, medians. {meta['workers']} gunicorn workers per "
        f"server, {meta['database']}; {meta['requests']} sequential requests per way, page and run (interleaved), "
        f"{meta['duration']:g} s of load per way, page and run ({meta['load_tool']}). "
        f"Load average {meta['load_before']:.2f} before, {meta['load_after']:.2f} after.",
        "",
        "| page | reader | p50 ms | p90 ms | req/s | server CPU ms/req | p50 ratio | p90 ratio | req/s ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for page, ways in found.items():
        for way, row in ways.items():
            ratios = [row.get(f"{key}_ratio") for key in ("p50_ms", "p90_ms", "rps")]
            cells = [_number(row[key]) for key, _ in FIGURES] + [f"{r:.2f}" if r is not None else "" for r in ratios]
            lines.append(f"| {page} | {way} | " + " | ".join(cells) + " |")
    lines += ["", "Ratios: each run's figure for the reader over anonymous's in the same run, median over runs.", ""]
    lines += ["| target (private index within 1.5x of anonymous) | ratio | met |", "|---|---|---|"]
    lines += [f"| {label} | {ratio:.2f} | {'yes' if met else '**no**'} |" for label, ratio, met in verdicts(found)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path("/proc/self/stat").exists():
        log("The benchmark reads /proc and runs on Linux only.")
        return 2
    tool = LoadTool(args.connections, prefer_python=args.python_load)
    args.workdir.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="private-reads-", dir=args.workdir))
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "runs": args.runs,
        "requests": args.requests,
        "duration": args.duration,
        "database": "PostgreSQL" if args.database_url else "SQLite",
        "load_tool": tool.description,
        "load_before": os.getloadavg()[0],
    }
    runs: list[dict] = []
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    log(f"Throw-away folder: {base}")
    try:
        with throwaway_database(base / "data", args.database_url) as database_url:
            index = Index(base, database_url, access_log=not args.no_access_log)
            meta["workers"] = index.workers
            log("migrate ...")
            index.manage("migrate", "--noinput")
            log(f"seed.py --releases {args.releases} --small-projects {args.small_projects} ...")
            log(index.seed(args.project, args.releases, args.small_projects).strip())
            authorization = basic(read_only_token(index))
            private = index.another_server("gunicorn (ours, READ_ACCESS=authenticated)", READ_ACCESS="authenticated")
            log(f"Starting two gunicorns ({index.workers} workers each): READ_ACCESS=public and authenticated ...")
            index.start()
            private.start(Request("/simple/"))
            ways = [
                Way("anonymous", index.server),
                Way("token, public", index.server, authorization),
                Way("token, private", private, authorization),
            ]
            paths = {page: path.format(project=args.project) for page, path in PAGES.items()}
            meta["cache_control"] = check(ways, list(paths.values()))
            for path in paths.values():
                for way in ways:
                    warm(way.server.port, way.request(path), tool, 1.0)
            for run in range(args.runs):
                log(f"Run {run + 1} of {args.runs} ...")
                figures = {page: measure_run(ways, path, args, tool, run) for page, path in paths.items()}
                for page, by_way in figures.items():
                    log(f"  {page}: " + "; ".join(
                        f"{way} p50 {row['p50_ms']:.2f} ms, {row['rps']:.0f} req/s" for way, row in by_way.items()
                    ))  # fmt: skip
                runs.append(figures)
    except KeyboardInterrupt:
        log("Interrupted.")
        return 130
    except (BenchmarkError, OSError, http.client.HTTPException, subprocess.TimeoutExpired) as exc:
        log(f"The benchmark could not run: {exc}")
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop_all()
        if args.keep:
            log(f"Kept {base}")
        else:
            subprocess.run(["rm", "-rf", str(base)], check=False)  # noqa: S603, S607
    meta["load_after"] = os.getloadavg()[0]
    found = summary(runs)
    if args.output:
        args.output.write_text(json.dumps({"meta": meta, "runs": runs, "summary": found}, indent=1))
    print(render(found, meta))
    return 0 if all(met for _, _, met in verdicts(found)) else 1


if __name__ == "__main__":
    sys.exit(main())
