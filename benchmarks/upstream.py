"""Upstream proxy: what serving another index's projects through ours costs, against real gunicorn servers.

    .venv/bin/python benchmarks/upstream.py [--runs 5] [--requests 200] [--releases 4632]

Seeds a throw-away index (``seed.py``: one ccxt-shaped project, ``local-ccxt``, 4,632 releases
and 9,264 files; no small projects) and serves it the production way (``ours.py``:
``gunicorn.conf.py``, ``DEBUG=false``, SQLite or ``--database-url``) with
``UPSTREAM_INDEX_URL`` pointing at an upstream on 127.0.0.1 (``harness/upstream_index.py``,
PEP 691 JSON, in this process), which counts every request it gets. The upstream holds
``upstr-ccxt``: the local project's page file for file (same number of files, filename
lengths, sizes, upload times, yanks, ``requires-python``), so the two pages are the same size.
``UPSTREAM_PAGE_TTL=3600``: a warm page is not revalidated during the benchmark.

Per run:

- **warm**: ``/simple/local-ccxt/`` against ``/simple/upstr-ccxt/``, PEP 691 JSON and HTML
  (``Accept-Encoding: gzip``), requests one at a time on new connections, interleaved (one of
  each in turn), for p50 and p90; the run's ratio proxied / local. Target: within 1.5x.
- **first fetch**: the first request for projects the index has never seen (each a new name
  upstream), a small one (20 files) and a ccxt-shaped one; milliseconds.
- **burst**: 50 concurrent first requests for one project never seen (small, and ccxt-shaped),
  released together by a barrier: how many page requests reached upstream. Target: 1.

Printed (markdown, on stdout): the median over the runs of each figure and of each run's ratio.
Exit status 0 when the targets hold, 1 when they do not, 2 when the benchmark could not run.
Every process it starts is stopped at the end. Linux only (as the other benchmarks).
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
import threading
import time
from pathlib import Path

from client import GZIP, JSON_V1, BenchmarkError, Request, expect, fetch, percentile
from ours import Index, throwaway_database
from processes import log, stop_all

from harness.dists import filename_part  # ours put the checkout on sys.path
from harness.upstream_index import UpstreamFile, UpstreamIndex, UpstreamProject

BENCH_DIR = Path(__file__).resolve().parent
TARGET_RATIO = 1.5
LOCAL = "local-ccxt"
PROXIED = "upstr-ccxt"  # as long as LOCAL: the same filename lengths
SMALL_FILES = 20
BURST = 50
FORMS = {"JSON": {"Accept": JSON_V1, **GZIP}, "HTML": {"Accept": "text/html", **GZIP}}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs; the figures are their medians (5)")
    parser.add_argument("--requests", type=int, default=200, help="warm requests per page, form and run (200)")
    parser.add_argument("--first-fetches", type=int, default=10, help="small projects fetched first per run (10)")
    parser.add_argument("--releases", type=int, default=4632, help="releases of the big project (4632)")
    parser.add_argument("--database-url", help="a postgres:// URL: a throw-away database made beside it")
    parser.add_argument("--output", type=Path, help="also write every run's figures here, as JSON")
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / ".work", help="where the throw-away folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the throw-away folder (its path is printed)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.requests < 2 or args.first_fetches < 1:
        parser.error("--runs and --first-fetches must be at least 1, --requests at least 2")
    if args.database_url and not args.database_url.startswith("postgres"):
        parser.error("--database-url takes a postgres:// URL (SQLite is the default)")
    return args


# ---------------------------------------------------------------- the upstream's projects


def copy_of(local_page: dict, name: str, *, pad: bool) -> UpstreamProject:
    """An upstream project ``name`` with the local page's files renamed; ``pad``: each file's bytes
    as long as the local one's (so ``size`` is the same), else a few bytes."""
    prefix = filename_part(local_page["name"]) + "-"
    files = []
    for entry in local_page["files"]:
        filename = filename_part(name) + "-" + entry["filename"].removeprefix(prefix)
        data = filename.encode()
        if pad:
            data = data.ljust(entry.get("size") or 0, b"\0")
        files.append(
            UpstreamFile(
                filename,
                data,
                metadata=f"Metadata-Version: 2.1\nName: {name}\n".encode() if entry.get("core-metadata") else None,
                requires_python=entry.get("requires-python"),
                yanked=entry.get("yanked", False),
                upload_time=entry.get("upload-time") or "2024-01-02T03:04:05Z",
            )
        )
    return UpstreamProject(name, files, list(local_page["versions"]))


def small_project(name: str) -> UpstreamProject:
    versions = [f"1.{minor}" for minor in range(SMALL_FILES)]
    files = [UpstreamFile(f"{filename_part(name)}-{version}-py3-none-any.whl", name.encode()) for version in versions]
    return UpstreamProject(name, files, versions)


# ---------------------------------------------------------------- measurements


def page_request(name: str, form: str) -> Request:
    return Request(f"/simple/{name}/", FORMS[form])


def warm_run(port: int, requests: int, run: int) -> dict[str, dict]:
    """Per form: requests one at a time, local and proxied in turn (the first of them rotating)."""
    figures = {}
    for form in FORMS:
        pair = [LOCAL, PROXIED] if run % 2 == 0 else [PROXIED, LOCAL]
        times: dict[str, list[float]] = {name: [] for name in pair}
        for _ in range(requests):
            for name in pair:
                times[name].append(expect(port, page_request(name, form)).seconds)
        row = {}
        for name in (LOCAL, PROXIED):
            row[name] = {"p50_ms": percentile(times[name], 50) * 1000, "p90_ms": percentile(times[name], 90) * 1000}
        row["p50_ratio"] = row[PROXIED]["p50_ms"] / row[LOCAL]["p50_ms"]
        row["p90_ratio"] = row[PROXIED]["p90_ms"] / row[LOCAL]["p90_ms"]
        figures[form] = row
    return figures


def first_fetch_ms(port: int, upstream: UpstreamIndex, project: UpstreamProject) -> float:
    upstream.projects[project.name] = project
    reply = expect(port, page_request(project.name, "JSON"), timeout=60)
    if reply.headers.get("x-index-source") != "upstream":
        raise BenchmarkError(f"{project.name}: answered from {reply.headers.get('x-index-source')!r}, not upstream")
    return reply.seconds * 1000


def burst(port: int, upstream: UpstreamIndex, project: UpstreamProject) -> dict:
    """``BURST`` threads, released together, each asking once for a project the index has never seen."""
    upstream.projects[project.name] = project
    barrier = threading.Barrier(BURST)
    statuses: list[int] = []
    seconds: list[float] = []
    lock = threading.Lock()

    def one() -> None:
        barrier.wait()
        try:
            reply = fetch(port, page_request(project.name, "JSON"), timeout=60)
            status, took = reply.status, reply.seconds
        except (OSError, http.client.HTTPException):
            status, took = 0, float("nan")
        with lock:
            statuses.append(status)
            seconds.append(took)

    threads = [threading.Thread(target=one) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return {
        "upstream_requests": len(upstream.hits(f"/simple/{project.name}/")),
        "ok": sum(status == 200 for status in statuses),
        "slowest_ms": max(seconds) * 1000,
    }


def one_run(port: int, upstream: UpstreamIndex, local_page: dict, args, run: int) -> dict:
    figures: dict = {"warm": warm_run(port, args.requests, run)}
    small = [first_fetch_ms(port, upstream, small_project(f"cold-small-r{run}-{i}")) for i in range(args.first_fetches)]
    big = first_fetch_ms(port, upstream, copy_of(local_page, f"cold-big-r{run}", pad=False))
    figures["first_ms"] = {"small": statistics.median(small), "ccxt-shaped": big}
    figures["burst"] = {
        "small": burst(port, upstream, small_project(f"burst-small-r{run}")),
        "ccxt-shaped": burst(port, upstream, copy_of(local_page, f"burst-big-r{run}", pad=False)),
    }
    return figures


# ---------------------------------------------------------------- summary


def median_of(runs: list[dict], *keys: str) -> float:
    values = []
    for run in runs:
        value = run
        for key in keys:
            value = value[key]
        values.append(value)
    return statistics.median(values)


def verdicts(runs: list[dict]) -> list[tuple[str, str, bool]]:
    checks = []
    for form in FORMS:
        ratio = median_of(runs, "warm", form, "p50_ratio")
        checks.append((f"warm {form} p50, proxied / local (at most {TARGET_RATIO})", f"{ratio:.2f}", ratio <= 1.5))
    for size in ("small", "ccxt-shaped"):
        counts = [run["burst"][size]["upstream_requests"] for run in runs]
        checks.append((f"{BURST} concurrent first requests, {size}: upstream requests (1)", str(max(counts)),
                       max(counts) == 1))  # fmt: skip
    return checks


def _sizes(sizes: dict[str, int]) -> str:
    return f"{sizes['JSON']:,} B ({sizes['JSON gzip']:,}) / {sizes['HTML']:,} B ({sizes['HTML gzip']:,})"


def render(runs: list[dict], meta: dict) -> str:
    lines = [
        f"Upstream proxy, {meta['date']}: {meta['runs']} runs, medians. {meta['workers']} gunicorn workers, "
        f"{meta['database']}; upstream on 127.0.0.1 (harness/upstream_index.py). {meta['requests']} sequential "
        f"requests per page, form and run (interleaved). Page sizes, JSON / HTML (gzip): local "
        f"{_sizes(meta['sizes'][LOCAL])}, proxied {_sizes(meta['sizes'][PROXIED])}. "
        f"Load average {meta['load_before']:.2f} before, {meta['load_after']:.2f} after.",
        "",
        "| warm page | local p50 ms | proxied p50 ms | p50 ratio | local p90 ms | proxied p90 ms | p90 ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for form in FORMS:
        cells = [
            median_of(runs, "warm", form, LOCAL, "p50_ms"),
            median_of(runs, "warm", form, PROXIED, "p50_ms"),
            median_of(runs, "warm", form, "p50_ratio"),
            median_of(runs, "warm", form, LOCAL, "p90_ms"),
            median_of(runs, "warm", form, PROXIED, "p90_ms"),
            median_of(runs, "warm", form, "p90_ratio"),
        ]
        lines.append(f"| {meta['releases']}-release project, {form} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    lines += [
        "",
        "| project never seen | first fetch ms | 50 concurrent: upstream requests (max over runs) | answered 200 (min) "
        "| slowest of the 50, ms |",
        "|---|---|---|---|---|",
    ]
    for size, label in (("small", f"small ({SMALL_FILES} files)"), ("ccxt-shaped", f"{meta['releases']} releases")):
        counts = [run["burst"][size]["upstream_requests"] for run in runs]
        ok = min(run["burst"][size]["ok"] for run in runs)
        lines.append(
            f"| {label} | {median_of(runs, 'first_ms', size):.1f} | {max(counts)} (each run: {counts}) | {ok} of "
            f"{BURST} | {median_of(runs, 'burst', size, 'slowest_ms'):.0f} |"
        )
    lines += ["", "| target | figure | met |", "|---|---|---|"]
    lines += [f"| {label} | {figure} | {'yes' if met else '**no**'} |" for label, figure, met in verdicts(runs)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path("/proc/self/stat").exists():
        log("The benchmark reads /proc and runs on Linux only.")
        return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="upstream-", dir=args.workdir))
    meta: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "runs": args.runs,
        "requests": args.requests,
        "releases": args.releases,
        "database": "PostgreSQL" if args.database_url else "SQLite",
        "load_before": os.getloadavg()[0],
    }
    runs: list[dict] = []
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    log(f"Throw-away folder: {base}")
    try:
        with UpstreamIndex() as upstream, throwaway_database(base / "data", args.database_url) as database_url:
            index = Index(base, database_url)
            # The server was made with this very dict: set before it starts.
            index.env.update(UPSTREAM_INDEX_URL=upstream.url, UPSTREAM_PAGE_TTL="3600")
            meta["workers"] = index.workers
            log("migrate ...")
            index.manage("migrate", "--noinput")
            log(f"seed.py --releases {args.releases} --small-projects 0 --project-name {LOCAL} ...")
            log(index.seed(LOCAL, args.releases, 0).strip())
            log(f"Starting gunicorn ({index.workers} workers), upstream at {upstream.url} ...")
            index.start()
            port = index.port
            local_page = json.loads(expect(port, Request(f"/simple/{LOCAL}/", {"Accept": JSON_V1})).body)
            upstream.projects[PROXIED] = copy_of(local_page, PROXIED, pad=True)
            meta["sizes"] = {
                name: {
                    form: len(expect(port, Request(f"/simple/{name}/", {"Accept": FORMS[form]["Accept"]})).body)
                    for form in FORMS
                }
                | {f"{form} gzip": len(expect(port, page_request(name, form)).body) for form in FORMS}
                for name in (LOCAL, PROXIED)
            }  # fmt: skip
            source = expect(port, page_request(PROXIED, "JSON")).headers.get("x-index-source")
            if source != "upstream":
                raise BenchmarkError(f"/simple/{PROXIED}/ answered from {source!r}, not upstream")
            for _ in range(4 * index.workers):  # every worker has built both pages in both forms
                for name in (LOCAL, PROXIED):
                    for form in FORMS:
                        expect(port, page_request(name, form))
            for run in range(args.runs):
                log(f"Run {run + 1} of {args.runs} ...")
                figures = one_run(port, upstream, local_page, args, run)
                warm = figures["warm"]
                log("  warm p50 ratio " + ", ".join(f"{form} {warm[form]['p50_ratio']:.2f}" for form in FORMS)
                    + f"; first fetch {figures['first_ms']}; burst upstream requests "
                    + str({size: row["upstream_requests"] for size, row in figures["burst"].items()}))  # fmt: skip
                runs.append(figures)
            meta["upstream_page_requests"] = len(upstream.hits("/simple/"))
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
    if args.output:
        args.output.write_text(json.dumps({"meta": meta, "runs": runs}, indent=1))
    print(render(runs, meta))
    return 0 if all(met for _, _, met in verdicts(runs)) else 1


if __name__ == "__main__":
    sys.exit(main())
