"""gunicorn's workers and threads against memory and speed, on one seeded index, in one run.

    .venv/bin/python benchmarks/worker_count.py                          # 4x16, 2x16, 2x32; 2 runs
    .venv/bin/python benchmarks/worker_count.py --configs 4x16,2x16 --runs 3 --output out.json

Issue #25: the serving processes' memory is mostly each worker's own copy of the application,
so the worker count sets most of it. One throw-away index (``ours.py``: ``DEBUG=false``,
SQLite or ``--database-url``, no Redis) seeded by ``seed.py`` (ccxt's 4,632 releases, 10,000
small projects); then, for each run and each configuration ``WORKERSxTHREADS`` in turn (the
order rotating from run to run), gunicorn with ``gunicorn.conf.py`` and
``WEB_CONCURRENCY``/``GUNICORN_THREADS`` set:

1. warming: each endpoint asked for by ``--connections`` clients at once, three times;
2. per endpoint: ``--requests`` requests one after another (p50, p99: one client's wait),
   then a load run of ``--seconds`` at ``--connections`` connections (wrk when installed:
   req/s, p50, p99, server CPU per request);
3. the total RSS and PSS of the master and its workers (after all the endpoints).

The endpoints are those of the suite (``endpoints.py``) that a worker's count may change:
ccxt's simple page (JSON and HTML, gzip), its legacy JSON, a one-release project's simple
page, and a wheel download. Prints a markdown table (median over the runs) to stdout, progress
to stderr; ``--output`` writes every figure as JSON. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from client import GZIP, JSON_V1, BenchmarkError, Request, expect, fetch, sequential  # noqa: E402
from load import LoadTool  # noqa: E402
from ours import Index, throwaway_database  # noqa: E402
from page_memory import remove, rollup_kib  # noqa: E402
from processes import log, memory_kib, stop_all  # noqa: E402

PROJECT = "ccxt"


def endpoints(port: int) -> list[tuple[str, Request]]:
    page = json.loads(expect(port, Request(f"/simple/{PROJECT}/", {"Accept": JSON_V1})).body)
    wheels = [entry for entry in page["files"] if entry["filename"].endswith("-none-any.whl")]
    wheel_path = urllib.parse.urlsplit(wheels[len(wheels) // 2]["url"]).path
    small = json.loads(expect(port, Request("/simple/", {"Accept": JSON_V1})).body)["projects"][1]["name"]
    json_gz, html_gz = {"Accept": JSON_V1, **GZIP}, {"Accept": "text/html", **GZIP}
    return [
        (f"simple page `{PROJECT}` JSON", Request(f"/simple/{PROJECT}/", json_gz)),
        (f"simple page `{PROJECT}` HTML", Request(f"/simple/{PROJECT}/", html_gz)),
        (f"legacy JSON `/pypi/{PROJECT}/json`", Request(f"/pypi/{PROJECT}/json", GZIP)),
        ("simple page, one-release project, JSON", Request(f"/simple/{small}/", json_gz)),
        ("file download (wheel)", Request(wheel_path, GZIP)),
    ]


def parse_config(text: str) -> tuple[int, int]:
    workers, _, threads = text.lower().partition("x")
    return int(workers), int(threads)


def memory(server) -> dict:
    processes = [
        {"pid": pid, "rss_kib": memory_kib(pid).get("VmRSS", 0), "pss_kib": rollup_kib(pid).get("Pss", 0)}
        for pid in server.pids()
    ]
    return {
        "rss_kib": sum(p["rss_kib"] for p in processes),
        "pss_kib": sum(p["pss_kib"] for p in processes),
        "processes": processes,
    }


def measure(index: Index, config: str, args, tool: LoadTool) -> dict:
    workers, threads = parse_config(config)
    server = index.another_server(f"gunicorn {config}", WEB_CONCURRENCY=str(workers), GUNICORN_THREADS=str(threads))
    result: dict = {"config": config, "workers": workers, "threads": threads, "endpoints": {}}
    try:
        server.start(Request("/simple/"))
        time.sleep(args.settle)
        result["fresh"] = memory(server)
        requests = endpoints(server.port)
        with ThreadPoolExecutor(args.connections) as pool:
            for _label, request in requests:
                for _ in range(3):
                    for reply in pool.map(lambda _n, r=request: fetch(server.port, r), range(args.connections)):
                        if reply.status != 200:
                            raise BenchmarkError(f"{request.path} answered {reply.status}")
        for label, request in requests:
            latency = sequential(server.port, request, args.requests)
            load = tool.run(server.port, request, args.seconds, server)
            if load.errors:
                raise BenchmarkError(f"{config} {label}: {load.errors} errors under load\n{server.log_tail()}")
            result["endpoints"][label] = {
                "p50_ms": latency.p50,
                "p99_ms": latency.p99,
                "rps": load.rps,
                "load_p50_ms": load.p50_ms,
                "load_p99_ms": load.p99_ms,
                "cpu_ms": load.server_cpu_ms,
            }
            log(
                f"[{config}] {label}: p50 {latency.p50:.2f} ms, {load.rps:,.0f} req/s "
                f"(p50 {load.p50_ms} ms, p99 {load.p99_ms} ms under load)"
            )
        time.sleep(args.settle)
        result["loaded"] = memory(server)
        log(
            f"[{config}] RSS {result['fresh']['rss_kib'] / 1024:.0f} MiB fresh, "
            f"{result['loaded']['rss_kib'] / 1024:.0f} MiB after; PSS {result['loaded']['pss_kib'] / 1024:.0f} MiB"
        )
    finally:
        server.stop()
    return result


def median(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def table(results: dict) -> str:
    configs = results["settings"]["configs"]
    runs = results["runs"]
    labels = list(runs[0][configs[0]]["endpoints"])
    head = "| endpoint | " + " | ".join(f"{c}: p50, req/s (p50 under load)" for c in configs) + " |"
    lines = [head, "|---|" + "---|" * len(configs)]
    for label in labels:
        cells = []
        for config in configs:
            figures = [run[config]["endpoints"][label] for run in runs]
            cells.append(
                f"{median(f['p50_ms'] for f in figures):.2f} ms, {median(f['rps'] for f in figures):,.0f} "
                f"({median(f['load_p50_ms'] for f in figures):.2f} ms)"
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for key, name in (("fresh", "RSS fresh"), ("loaded", "RSS after")):
        cells = [f"{median(run[c][key]['rss_kib'] for run in runs) / 1024:,.0f} MiB" for c in configs]
        lines.append(f"| {name} (master and workers) | " + " | ".join(cells) + " |")
    cells = [f"{median(run[c]['loaded']['pss_kib'] for run in runs) / 1024:,.0f} MiB" for c in configs]
    lines.append("| PSS after | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="4x16,2x16,2x32", help="WORKERSxTHREADS, comma-separated")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--requests", type=int, default=200, help="one after another, per endpoint")
    parser.add_argument("--seconds", type=float, default=10, help="of load per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--releases", type=int, default=4632)
    parser.add_argument("--small-projects", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="a postgres:// server (default: SQLite)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for config in args.configs:
        parse_config(config)
    tool = LoadTool(args.connections)
    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="minutes"),
        "settings": {k: v for k, v in vars(args).items() if k != "output"},
        "load_tool": tool.description,
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
        "runs": [],
    }
    work = Path(tempfile.mkdtemp(prefix="worker-count-"))
    try:
        with throwaway_database(work / "data", args.database_url) as database_url:
            index = Index(work, database_url, access_log=False)
            index.manage("migrate", "--noinput")
            log(f"seed.py --releases {args.releases} --small-projects {args.small_projects} ...")
            log(index.seed(PROJECT, args.releases, args.small_projects).strip())
            for number in range(args.runs):
                shift = number % len(args.configs)
                order = args.configs[shift:] + args.configs[:shift]
                results["runs"].append({config: measure(index, config, args, tool) for config in order})
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
    print(
        f"{results['date']}: {len(results['runs'])} runs, {results['load_tool']}, load average "
        f"{results['load_before']:.1f} before and {results['load_after']:.1f} after on {results['cpus']} CPUs; "
        f"medians over the runs.\n\n{table(results)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
