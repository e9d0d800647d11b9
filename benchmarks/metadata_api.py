"""Speed of the /api/v1/ metadata API and of the legacy JSON API on a PyPI-sized project.

Seeds a throw-away index with ``manage.py seed_benchmark`` (``ccxt`` with 4,632
releases and 9,264 files, plus 10,000 small projects), serves it the production way
(gunicorn with ``gunicorn.conf.py``) and measures sequential latency (p50, p99) of
release pages (first, deep, by date), release resources, events pages (start, middle,
end), the project resource, the projects list and a file lookup (target: p50 ≤ 20 ms
for every page of 100 items and every release resource); then the legacy JSON pages
``/pypi/ccxt/json`` and ``/pypi/ccxt/<version>/json`` warm (targets ≤ 10 ms) and the
unversioned one on the first request after a change (target ≤ 100 ms).

    .venv/bin/python benchmarks/metadata_api.py [--quick] [--database-url postgres://...] [--output FILE]

Reuses the machinery of ``simple_api.py`` (server start and stop, clients, timing).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from simple_api import (
    _STARTED,
    Index,
    Latency,
    expect,
    fetch,
    log,
    machine_info,
    sequential,
    throwaway_database,
)

TARGET_MS = 20.0
API = "/api/v1"


def relative(url: str) -> str:
    return url[url.index(API) :]


def page_after(port: int, path: str, pages: int) -> str:
    """The path of the page ``pages`` links after ``path`` (or the last page), following ``next``."""
    for _ in range(pages):
        body = json.loads(expect(fetch(port, path, {}), 200, path).body)
        if body["next"] is None:
            break
        path = relative(body["next"])
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 releases, 500 projects, 50 requests")
    parser.add_argument("--database-url", help="PostgreSQL server to make a throw-away database on")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    releases, projects, count = (300, 500, 50) if args.quick else (4632, 10_000, args.requests)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="pyidx-api-bench-") as tmp:
            base = Path(tmp)
            (base / "data").mkdir()
            with throwaway_database(base / "data", args.database_url) as database_url:
                index = Index(base, database_url, access_log=False)
                index.manage("migrate", "--noinput")
                log("seed_benchmark ...")
                seeded = index.manage(
                    "seed_benchmark", "--releases", str(releases), "--small-projects", str(projects), "--no-files"
                )
                index.server.start(f"{API}/projects/?page_size=1")
                rows = measure(index.port, count)
                rows += measure_legacy(index, count)
                index.server.stop()
    finally:
        for server in _STARTED:
            server.stop()
    text = report(rows, seeded, time.monotonic() - started)
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0 if all(latency.p50 <= target_for(label) for label, latency in rows if target_for(label)) else 1


def measure(port: int, count: int) -> list[tuple[str, Latency]]:
    first = json.loads(fetch(port, f"{API}/projects/ccxt/releases/", {}).body)
    version = first["results"][37]["version"]
    last_serial = json.loads(fetch(port, f"{API}/events/?since=0&page_size=1", {}).body)["last_serial"]
    digest = json.loads(fetch(port, f"{API}/projects/ccxt/releases/{version}/", {}).body)["files"][0]["hashes"]
    paths = {
        "releases, page 1 (100)": f"{API}/projects/ccxt/releases/",
        "releases, page 30 (100)": page_after(port, f"{API}/projects/ccxt/releases/", 29),
        "releases by date, page 1 (100)": f"{API}/projects/ccxt/releases/?order=created",
        "releases without files (100)": f"{API}/projects/ccxt/releases/?files=without",
        "release resource": f"{API}/projects/ccxt/releases/{version}/",
        "release resource, old": f"{API}/projects/ccxt/releases/1.0.5/",
        "events from 0 (100)": f"{API}/events/?since=0",
        "events, middle (100)": f"{API}/events/?since={last_serial // 2}",
        "events, 1000 at once": f"{API}/events/?since={last_serial // 3}&page_size=1000",
        "project resource": f"{API}/projects/ccxt/",
        "projects list (100)": f"{API}/projects/",
        "file by sha256": f"{API}/files/{digest['sha256']}/",
    }
    rows = []
    for label, path in paths.items():
        for _ in range(5):  # warm the worker processes
            expect(fetch(port, path, {}), 200, path)
        latency = sequential(port, path, {}, count)
        log(f"{label}: p50 {latency.p50:.2f} ms, p99 {latency.p99:.2f} ms")
        rows.append((label, latency))
    return rows


GZIP = {"Accept-Encoding": "gzip"}
LEGACY_TARGETS = {
    "legacy JSON, warm": 10.0,
    "legacy JSON of a version, warm": 10.0,
    "legacy JSON, first after a change": 100.0,
}


def measure_legacy(index: Index, count: int) -> list[tuple[str, Latency]]:
    port = index.port
    version = json.loads(fetch(port, "/pypi/ccxt/json", {}).body)["info"]["version"]
    rows = []
    for label, path in (
        ("legacy JSON, warm", "/pypi/ccxt/json"),
        ("legacy JSON of a version, warm", f"/pypi/ccxt/{version}/json"),
    ):
        for _ in range(8):
            expect(fetch(port, path, GZIP), 200, path)
        latency = sequential(port, path, GZIP, count)
        log(f"{label}: p50 {latency.p50:.2f} ms")
        rows.append((label, latency))
    firsts = []
    for _ in range(5):
        index.change("ccxt")  # a new release through the product's service, in another process
        firsts.append(expect(fetch(port, "/pypi/ccxt/json", GZIP), 200, "legacy JSON after a change").seconds)
    rows.append(("legacy JSON, first after a change", Latency.of(firsts)))
    log(f"legacy JSON, first after a change: {[round(s * 1000) for s in firsts]} ms")
    return rows


def target_for(label: str) -> float | None:
    if "1000" in label:
        return None
    return LEGACY_TARGETS.get(label, TARGET_MS)


def report(rows: list[tuple[str, Latency]], seeded: str, seconds: float) -> str:
    info = machine_info()
    lines = [
        f"## Metadata API benchmark, {info['date']}",
        "",
        f"Machine: {info['cores']} cores ({info.get('cpu', '?')}), {info.get('memory', '?')}, {info['platform']}; "
        f"Python {info['python']}, Django {info.get('django', '?')}, gunicorn {info.get('gunicorn', '?')} "
        f"(workers from gunicorn.conf.py), SQLite {info['sqlite']} unless a database URL was given.",
        "",
        f"Data: {' '.join(seeded.split())}",
        f"Whole run {seconds:.0f} s. Sequential requests, each on a new connection, from connect to last byte.",
        "",
        "| request | p50 ms | p99 ms | target (p50) | met |",
        "|---|---|---|---|---|",
    ]
    for label, latency in rows:
        target = target_for(label)
        if target is None:
            lines.append(f"| {label} | {latency.p50:.2f} | {latency.p99:.2f} | (shown for scale) | |")
            continue
        met = "yes" if latency.p50 <= target else "**no**"
        lines.append(f"| {label} | {latency.p50:.2f} | {latency.p99:.2f} | ≤ {target:.0f} ms | {met} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
