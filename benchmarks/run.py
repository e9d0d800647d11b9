"""The benchmark suite: every endpoint of our index on PyPI-sized data, beside pypiserver and devpi.

    ./scripts/benchmark            # the whole suite; writes docs/benchmarks.md's results and the plot
    ./scripts/benchmark --quick    # smaller data and shorter runs, a couple of minutes, to docs only if --docs

Seeds a throw-away index (``benchmarks/seed.py``: a ccxt-sized project, 10,000
one-release projects, and one project per scaling size), loads the same data into pypiserver
and devpi-server (``peers.py``), then measures each server with the same code
(``endpoints.py``, ``scaling.py``, ``uploads.py``) and writes the markdown tables and the
plot (``report.py``, ``plot.py``). What is measured and how: docs/benchmarks.md.

Progress goes to stderr. Exit status 0 when every target is met, 1 when one is missed, 2
when the suite could not run. Every process it starts is stopped at the end, also on an error,
SIGTERM or Ctrl-C. Linux only (it reads /proc).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from client import JSON_V1, BenchmarkError, Request, expect
from endpoints import Context, Settings, measure, table, timed_first
from load import LoadTool
from ours import Index, throwaway_database
from peers import Devpi, PeersVenv, Pypiserver
from processes import REPO_ROOT, RssSampler, Server, log, run_command, stop_all
from scaling import QUICK_SIZES, SIZES, ScaleSettings, legacy_request, measure_size, page_request, project_name
from uploads import Target, big_upload, build_big_wheel, by_version, growing_project, upload

BENCH_DIR = Path(__file__).resolve().parent
# The upload runs and the project each grows from nothing.
UPLOAD_PROJECTS = {"uploads-sequential": "upload-seq", "uploads-parallel": "upload-par"}
PEER_NAMES = ("pypiserver", "devpi")
# The requests timed on the first answer after a change, per server.
AFTER_CHANGE = {
    "ours": ("simple-big-json", "simple-big-html", "legacy-json"),
    "pypiserver": ("simple-big-html", "legacy-json"),
    "devpi": ("simple-big-html", "simple-big-json", "legacy-json"),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, short runs: a smoke run of a few minutes")
    parser.add_argument("--database-url", help="a postgres:// URL: ours runs on a throw-away database made beside it")
    parser.add_argument("--peers", default="pypiserver,devpi", help="peers to measure, comma-separated, or 'none'")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling runs")
    parser.add_argument("--sizes", help="releases per scaling run (100,1000,5000,20000; --quick 100,500,2000)")
    parser.add_argument("--releases", type=int, help="releases of the big project (4632; --quick 500)")
    parser.add_argument("--small-projects", type=int, help="one-release projects (10000; --quick 1000)")
    parser.add_argument("--requests", type=int, help="sequential requests per measure (200; --quick 40)")
    parser.add_argument("--duration", type=float, help="seconds of load per measure (4; --quick 2)")
    parser.add_argument("--connections", type=int, default=8, help="connections of the load runs (8)")
    parser.add_argument("--repeats", type=int, help="changes per after-a-change figure, ours (5; --quick 2)")
    parser.add_argument("--peer-budget", type=float, help="seconds per latency run of a slow peer (5; --quick 3)")
    parser.add_argument(
        "--upload-versions", type=int, help="versions (a wheel and an sdist each) per upload run (150; --quick 30)"
    )
    parser.add_argument("--upload-clients", type=int, default=4, help="clients of the parallel upload run (4)")
    parser.add_argument("--big-upload-mib", type=int, help="size of the big upload (1024; --quick 64; 0 skips)")
    parser.add_argument("--no-access-log", action="store_true", help="send gunicorn.conf.py's access log to /dev/null")
    parser.add_argument("--python-load", action="store_true", help="a Python load generator even if wrk is there")
    parser.add_argument("--note", default="", help="a remark printed with the results (e.g. 'machine busy')")
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / ".work", help="where the throw-away folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the throw-away folder (its path is printed)")
    parser.add_argument("--output-dir", type=Path, default=BENCH_DIR / "out", help="results.json, results.md, plot")
    docs = parser.add_mutually_exclusive_group()
    docs.add_argument("--docs", dest="docs", action="store_true", default=None, help="update docs/ (full runs do)")
    docs.add_argument("--no-docs", dest="docs", action="store_false", help="leave docs/ alone")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "releases": (4632, 500),
        "small_projects": (10_000, 1000),
        "requests": (200, 40),
        "duration": (4.0, 2.0),
        "repeats": (5, 2),
        "peer_budget": (5.0, 3.0),
        "upload_versions": (150, 30),
        "big_upload_mib": (1024, 64),
    }
    for name, (full, small) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    args.sizes = [int(size) for size in args.sizes.split(",")] if args.sizes else list(QUICK_SIZES if quick else SIZES)
    if args.no_scaling:
        args.sizes = []
    args.peers = [] if args.peers == "none" else [name.strip() for name in args.peers.split(",") if name.strip()]
    if unknown := set(args.peers) - set(PEER_NAMES):
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    if args.database_url and not args.database_url.startswith("postgres"):
        parser.error("--database-url takes a postgres:// URL (SQLite is the default)")
    if args.docs is None:
        args.docs = not quick
    args.project = "ccxt"
    args.warm_seconds = 1.0
    args.max_load_seconds = 6.0 if quick else 10.0
    args.peer_repeats = 1 if quick else 2
    args.scale_requests = 20 if quick else 50
    # A bound, not a budget: every server uploads every file unless one is pathologically slow.
    args.upload_time_limit = 300.0 if quick else 900.0
    return args


# ---------------------------------------------------------------- changes


class Changer:
    """Each call uploads the next prepared wheel through the server's upload endpoint; returns its ms."""

    def __init__(self, target: Target, dists: list[tuple[Path, str, str]], after: Callable[[], None] | None = None):
        self.target = target
        self.dists = list(dists)
        self.after = after

    def __call__(self) -> float:
        if not self.dists:
            raise BenchmarkError("out of prepared wheels for changes")
        path, name, version = self.dists.pop(0)
        milliseconds = upload(self.target, path, name, version) * 1000
        if self.after is not None:
            self.after()
        return milliseconds


def after_changes(port: int, change: Changer, requests: dict[str, Request], repeats: int) -> dict:
    """For each request, ``repeats`` times: one change, then the request once."""
    found: dict[str, list[dict]] = {}
    for key, request in requests.items():
        for _ in range(repeats):
            upload_ms = change()
            found.setdefault(key, []).append({"upload_ms": upload_ms, "first_ms": timed_first(port, request)})
        firsts = [one["first_ms"] for one in found[key]]
        log(f"    after a change, {key}: {', '.join(f'{ms:.0f}' for ms in firsts)} ms")
    return found


# ---------------------------------------------------------------- setup


def setup(args, index: Index, venv: PeersVenv, base: Path, results: dict) -> dict:
    """Seed ours, prepare the wheels the runs upload, install the peers, load their data.

    Nothing is measured yet, so the slow parts overlap: the peers' install (mostly waiting on the
    network) and devpi's import of the main data run beside the seeding of the scaling projects.
    """
    timings = results["meta"]["timings"]
    prepared: dict = {}
    peers_dir = base / "peers"
    with ThreadPoolExecutor(2) as pool:
        venv_future = pool.submit(venv.ensure) if args.peers else None
        started = time.monotonic()
        log("migrate ...")
        index.manage("migrate", "--noinput")
        log(f"seed.py --releases {args.releases} --small-projects {args.small_projects} ...")
        results["meta"]["seed_output"] = index.seed(args.project, args.releases, args.small_projects).strip()
        log(results["meta"]["seed_output"])
        timings["seed"] = time.monotonic() - started

        main_import = None
        if args.peers:
            if venv_future is not None:
                timings["peers_install"] = venv_future.result()
                results["meta"]["peer_versions"] = venv.versions
            results["meta"]["peer_data"] = export(index, venv, peers_dir, "main", ["main=*"])
            if "devpi" in args.peers:
                prepared["devpi"] = Devpi(venv, base / "devpi.log")
                main_import = pool.submit(prepared["devpi"].load, peers_dir / "main-export")

        started = time.monotonic()
        for size in args.sizes:
            log(f"seed.py --releases {size} --project-name {project_name(size)} ...")
            index.seed(project_name(size), size, 0)
        timings["seed_scaling"] = time.monotonic() - started
        prepared.update(write_dists(args, index, base / "dists"))
        index.create_uploader([args.project] + [project_name(size) for size in args.sizes])

        if args.peers and args.sizes:
            groups = [f"{project_name(size)}={project_name(size)}" for size in args.sizes]
            results["meta"]["peer_data"].update(export(index, venv, peers_dir, "scaling", groups))
            if "devpi" in args.peers:
                prepared["devpi-scaling"] = Devpi(venv, base / "devpi-scaling.log")
                prepared["devpi-scaling"].load(peers_dir / "scaling-export")
        if main_import is not None:
            main_import.result()
    for key, label in (("devpi", "devpi_import"), ("devpi-scaling", "devpi_import_scaling")):
        if key in prepared:
            timings[label] = prepared[key].import_seconds
            results["meta"][f"{label}_cached"] = prepared[key].import_cached
    return prepared


def export(index: Index, venv: PeersVenv, peers_dir: Path, name: str, groups: list[str]) -> dict:
    """The seeded data for the peers: flat folders for pypiserver, an export for devpi."""
    log(f"Exporting the {name} data for the peers ...")
    arguments = ["--pypiserver", str(peers_dir / "pypiserver"), "--devpi", str(peers_dir / f"{name}-export")]
    arguments += ["--devpi-version", venv.versions.get("devpi-server", "?")]
    return index.task("export-peers", *arguments, *[arg for group in groups for arg in ("--group", group)])


def write_dists(args, index: Index, folder: Path) -> dict:
    """The wheels the runs upload: changes to the big project and to each scaling project,
    and the versions of the upload runs (a wheel and an sdist each)."""
    changes = 3 * max(args.repeats, args.peer_repeats) + 2  # two spare, one warms the big upload's server
    sets = [f"changes,{args.project},{changes},9000,0"]
    sets += [f"{project_name(size)},{project_name(size)},4,9000,0" for size in args.sizes]
    # The upload runs: the same files for every server, each run into a project of its own.
    sets += [f"{run},{UPLOAD_PROJECTS[run]},{args.upload_versions},1,1" for run in UPLOAD_PROJECTS]
    listing = index.task("write-dists", "--target", str(folder), *[arg for one in sets for arg in ("--set", one)])
    return {
        key: [(folder / key / item["filename"], item["name"], item["version"]) for item in items]
        for key, items in listing.items()
    }


def discover(port: int, project: str) -> Context:
    """A release in the middle of the big project with a wheel, and the newest serial."""
    page = json.loads(expect(port, Request(f"/simple/{project}/", {"Accept": JSON_V1})).body)
    wheels = [entry for entry in page["files"] if entry["filename"].endswith("-none-any.whl")]
    middle = wheels[len(wheels) // 2]
    version = middle["filename"].split("-")[1]
    root = expect(port, Request("/simple/", {"Accept": JSON_V1}))
    small = json.loads(root.body)["projects"][1]["name"]
    return Context(
        big=project,
        small=small,
        version=version,
        wheel=middle["filename"],
        wheel_path=urllib.parse.urlsplit(middle["url"]).path,
        last_serial=int(root.headers["x-pypi-last-serial"]),
    )


# ---------------------------------------------------------------- one server


def measure_main(name: str, server: Server, requests: dict[str, Request], tool: LoadTool, settings: Settings) -> dict:
    figures = {}
    for key, request in requests.items():
        log(f"  {name}: {key}")
        figures[key] = measure(server, request, tool, settings).as_dict()
    return figures


def run_ours(args, index: Index, prepared: dict, tool: LoadTool, base: Path, results: dict) -> Context:
    log(f"Starting gunicorn ({index.workers} workers) ...")
    record = results["servers"]["ours"] = {"start_seconds": index.start(), "workers": index.workers}
    ctx = discover(index.port, args.project)
    rows = table(ctx)
    results["endpoints"] = [{"key": row.key, "label": row.label} for row in rows]
    settings = Settings(args.requests, args.duration, args.warm_seconds, None, args.max_load_seconds)
    target = Target.with_token(index.port, "/legacy/", index.token)
    with RssSampler(index.server) as rss:
        record["endpoints"] = measure_main("ours", index.server, {row.key: row.ours for row in rows}, tool, settings)
        changer = Changer(target, prepared["changes"])
        by_key = {row.key: row.ours for row in rows}
        record["after_change"] = after_changes(
            index.port, changer, {key: by_key[key] for key in AFTER_CHANGE["ours"]}, args.repeats
        )
        record["uploads"] = upload_runs("ours", target, prepared, args)
    record["peak_rss_kib"] = rss.peak_kib
    if args.sizes:
        record["scaling"] = {}
        scale = ScaleSettings(args.scale_requests, args.repeats if args.quick else 3, None)
        for size in args.sizes:
            name = project_name(size)
            log(f"  ours: scaling, {size} releases")
            record["scaling"][size] = measure_size(
                index.port, page_request(f"/simple/{name}/"), legacy_request(f"/pypi/{name}/json"),
                Changer(target, prepared[name]), scale, index.server, tool,
            )  # fmt: skip
    index.server.stop()
    if args.big_upload_mib:
        results["big_upload"] = measure_big_upload(args, index, prepared, base)
    log("Counting queries in process ...")
    queries = [
        {"key": row.key, "method": row.ours.method, "path": row.ours.path, "headers": row.ours.headers,
         "body": row.ours.body.decode()}
        for row in rows
    ]  # fmt: skip
    results["queries"] = index.task("count-queries", stdin=json.dumps(queries))
    return ctx


def measure_big_upload(args, index: Index, prepared: dict, base: Path) -> dict:
    """On a fresh server with one worker, warmed by a small upload (which loads every module the
    upload path needs), so that the growth measured is the big upload's own."""
    log(f"  ours: a {args.big_upload_mib} MiB upload (one fresh worker) ...")
    wheel = build_big_wheel(base, "upload-memory-bench", args.big_upload_mib * 1024**2)
    server = index.single_worker_server()
    try:
        server.start(Request("/simple/"))
        target = Target.with_token(server.port, "/legacy/", index.token)
        upload(target, *prepared["changes"][-1])
        time.sleep(0.5)
        return big_upload(server, target, wheel, "upload-memory-bench").__dict__
    finally:
        server.stop()
        wheel.unlink()


def upload_runs(name: str, target: Target, prepared: dict, args, settle: Callable[[], None] | None = None) -> dict:
    """The same versions to every server, into a new project each: once by one client, once by
    ``--upload-clients`` at a time. ``settle`` waits for what a server does after its writes."""
    found = {}
    for mode, run, clients in (("sequential", "uploads-sequential", 1),
                               ("parallel", "uploads-parallel", args.upload_clients)):  # fmt: skip
        log(f"  {name}: {args.upload_versions} versions into a new project, {clients} client(s) ...")
        result = growing_project(target, by_version(prepared[run]), clients, args.upload_time_limit)
        found[mode] = result.as_dict()
        log(f"    {result.files} files in {result.seconds:.1f} s, {result.files_per_second:.1f} files/s"
            + (f", {result.errors} errors" if result.errors else ""))  # fmt: skip
        if settle is not None:
            settle()
    return found


def peer_settings(args) -> Settings:
    return Settings(args.requests, args.duration, args.warm_seconds, args.peer_budget, args.max_load_seconds)


def peer_scale_settings(args) -> ScaleSettings:
    return ScaleSettings(10, args.peer_repeats, args.peer_budget, body_sizes=False)


def measure_peer(name: str, server: Server, rows, changer: Changer, prepared: dict, tool: LoadTool, args) -> dict:
    """A peer's endpoints, first answers after a change, upload throughput and peak memory, then the
    server stopped: one procedure for every peer, so that their figures compare."""
    with RssSampler(server) as rss:
        requests = {row.key: row.peers[name] for row in rows if name in row.peers}
        figures = {"endpoints": measure_main(name, server, requests, tool, peer_settings(args))}
        after_change = {key: requests[key] for key in AFTER_CHANGE[name]}
        figures["after_change"] = after_changes(changer.target.port, changer, after_change, args.peer_repeats)
        figures["uploads"] = upload_runs(name, changer.target, prepared, args, changer.after)
    figures["peak_rss_kib"] = rss.peak_kib
    figures["notes"] = {row.key: row.notes[name] for row in rows if name in row.notes}
    server.stop()
    return figures


def run_pypiserver(args, venv: PeersVenv, index: Index, ctx: Context, prepared: dict, tool, base: Path, results):
    folder = base / "peers" / "pypiserver"
    peer = Pypiserver(venv, folder / "main", index.workers, base / "pypiserver.log")
    log(f"Starting pypiserver ({index.workers} workers) ...")
    record = results["servers"]["pypiserver"] = {"start_seconds": peer.start(), "workers": index.workers}
    rows = table(ctx, pypiserver=peer)
    changer = Changer(Target(peer.port, peer.upload_path()), prepared["changes"])
    record.update(measure_peer("pypiserver", peer.server, rows, changer, prepared, tool, args))
    if args.sizes:
        record["scaling"] = {}
        for size in args.sizes:
            name = project_name(size)
            one = Pypiserver(venv, folder / name, index.workers, base / f"pypiserver-{name}.log")
            one.start()
            log(f"  pypiserver: scaling, {size} releases")
            try:
                record["scaling"][size] = measure_size(
                    one.port, page_request(one.simple(name)), legacy_request(one.legacy_json(name)),
                    Changer(Target(one.port, one.upload_path()), prepared[name]), peer_scale_settings(args),
                    one.server, tool,
                )  # fmt: skip
            finally:
                one.server.stop()


def run_devpi(args, devpi: Devpi, ctx: Context, prepared: dict, tool, results):
    log("Starting devpi-server ...")
    record = results["servers"]["devpi"] = {"start_seconds": devpi.start()}
    devpi.wait_for_events()
    ctx.devpi_wheel_path = devpi.file_url(ctx.big, ctx.wheel)
    rows = table(ctx, devpi=devpi)
    changer = Changer(Target(devpi.port, devpi.upload_path()), prepared["changes"], devpi.wait_for_events)
    record.update(measure_peer("devpi", devpi.server, rows, changer, prepared, tool, args))
    if args.sizes:
        # A server of its own, holding one index per size (root/scale-<n>).
        scaling = prepared["devpi-scaling"]
        log("Starting devpi-server with the scaling projects ...")
        scaling.start()
        scaling.wait_for_events()
        record["scaling"] = {}
        for size in args.sizes:
            name = project_name(size)
            index = f"root/{name}"
            log(f"  devpi: scaling, {size} releases")
            record["scaling"][size] = measure_size(
                scaling.port, page_request(scaling.simple(name, index)),
                legacy_request(scaling.legacy_json(name, index), accept_json=True),
                Changer(Target(scaling.port, scaling.upload_path(index)), prepared[name], scaling.wait_for_events),
                peer_scale_settings(args), scaling.server, tool,
            )  # fmt: skip
        scaling.server.stop()


# ---------------------------------------------------------------- machine


def machine_info() -> dict:
    info = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory"] = f"{int(line.split()[1]) / 1024**2:.0f} GiB"
    from importlib.metadata import version

    for package in ("django", "gunicorn"):
        with contextlib.suppress(Exception):
            info[package] = version(package)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        info["commit"] = run_command(["git", "rev-parse", "--short", "HEAD"]).strip()
    return info


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path("/proc/self/stat").exists():
        log("The benchmark reads /proc and runs on Linux only.")
        return 2
    started = time.monotonic()
    tool = LoadTool(args.connections, prefer_python=args.python_load)
    args.workdir.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="run-", dir=args.workdir))
    venv = PeersVenv()
    results: dict = {
        "meta": {
            **machine_info(),
            "quick": args.quick,
            "note": args.note,
            "database": "PostgreSQL" if args.database_url else "SQLite",
            "load_tool": tool.description,
            "load_before": os.getloadavg()[0],
            "timings": {},
            "settings": {
                key: getattr(args, key)
                for key in (
                    "releases",
                    "small_projects",
                    "requests",
                    "duration",
                    "connections",
                    "repeats",
                    "peer_budget",
                    "upload_versions",
                    "upload_clients",
                    "upload_time_limit",
                    "big_upload_mib",
                    "sizes",
                    "peers",
                    "peer_repeats",
                    "scale_requests",
                    "max_load_seconds",
                )
            },  # fmt: skip
        },
        "servers": {},
    }
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    log(f"Throw-away folder: {base}")
    try:
        with throwaway_database(base / "data", args.database_url) as database_url:
            index = Index(base, database_url, access_log=not args.no_access_log)
            prepared = setup(args, index, venv, base, results)
            timings = results["meta"]["timings"]
            measured = time.monotonic()
            ctx = run_ours(args, index, prepared, tool, base, results)
            timings["ours"] = time.monotonic() - measured
            if "pypiserver" in args.peers:
                phase = time.monotonic()
                run_pypiserver(args, venv, index, ctx, prepared, tool, base, results)
                timings["pypiserver"] = time.monotonic() - phase
            if "devpi" in args.peers:
                phase = time.monotonic()
                run_devpi(args, prepared["devpi"], ctx, prepared, tool, results)
                timings["devpi"] = time.monotonic() - phase
            timings["measuring"] = time.monotonic() - measured
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
            # rm is several times faster than shutil.rmtree on a few hundred thousand links.
            subprocess.run(["rm", "-rf", str(base)], check=False)  # noqa: S603, S607

    results["meta"]["load_after"] = os.getloadavg()[0]
    results["meta"]["timings"]["total"] = time.monotonic() - started
    return write_outputs(args, venv, results)


def write_outputs(args, venv: PeersVenv, results: dict) -> int:
    from report import exit_status, render, update_docs

    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "results.json").write_text(json.dumps(results, indent=1, default=str))
    plots = {"scaling": args.output_dir / "benchmark-scaling.png", "uploads": args.output_dir / "benchmark-uploads.png"}
    servers = results.get("servers", {})
    for plot in plots.values():
        plot.unlink(missing_ok=True)  # a former run's plot is not this run's
    wanted = [kind for kind, present in (("scaling", servers.get("ours", {}).get("scaling")),
                                         ("uploads", servers.get("ours", {}).get("uploads"))) if present]  # fmt: skip
    if wanted and not Path(venv.python).exists():
        log("No peers venv (matplotlib): no plots.")
    elif wanted:
        source = str(args.output_dir / "results.json")
        for kind in wanted:
            run_command([venv.python, str(BENCH_DIR / "plot.py"), source, str(plots[kind]), kind])
    text = render(results)
    (args.output_dir / "results.md").write_text(text)
    print(text)
    if args.docs:
        update_docs(REPO_ROOT / "docs" / "benchmarks.md", text)
        copied = []
        for plot in plots.values():
            if plot.exists():
                shutil.copyfile(plot, REPO_ROOT / "docs" / plot.name)
                copied.append(f"docs/{plot.name}")
        log("Updated docs/benchmarks.md" + "".join(f" and {name}" for name in copied))
    minutes = results["meta"]["timings"]["total"] / 60
    log(f"Done in {minutes:.1f} minutes. Results in {args.output_dir}.")
    return exit_status(results)


if __name__ == "__main__":
    sys.exit(main())
