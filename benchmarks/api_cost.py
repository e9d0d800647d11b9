"""``python benchmarks/api_cost.py``: what the metadata API's reads cost, in process, old code against new.

    .venv/bin/python benchmarks/api_cost.py --baseline /tmp/baseline     # git worktree add /tmp/baseline <commit>
    .venv/bin/python benchmarks/api_cost.py --releases 300 --runs 2      # this copy only, a smoke run

A throw-away index (SQLite under a temporary folder, or ``--database-url``; ``DEBUG=false``,
``READ_ACCESS=public``, no Redis) is seeded once by ``seed.py`` (the ccxt-shaped project,
``--releases`` releases, and ``--small-projects`` one-release ones). Then, in ``--runs`` runs,
each copy of the code (``--baseline``, the old one, and the copy this file is in) measures in
a process of its own, the copies' order alternating from run to run, each with an empty page
store of its own:

- each read below through Django's test client (the views, the store and the queries of
  gunicorn's path, without the network) with ``Accept-Encoding: gzip`` as clients send it:
  ``--requests`` warm requests one after another (after a warm-up of three), their p50;
- its revalidation: the same request with ``If-None-Match`` from its answer, its p50, checked
  to be a ``304``;
- the queries of one warm request and of one revalidation (``CaptureQueriesContext``);
- the release list's first page built: the page store emptied before each request, as after a
  change (``--built`` requests).

Prints the median over the runs of each figure, old and new, as a markdown table (stdout),
and the targets: the API release page p50 at most 5 ms, its revalidation at most 2 ms.
``--output FILE`` writes every run's figures as JSON. Exit status 0 when the targets hold,
1 when they do not, 2 when a copy could not be measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
PROJECT = "ccxt"
HOST = "127.0.0.1"
ROWS = {
    "release page": "API release page (100 releases)",
    "release page 2": "API release page 2 (a cursor)",
    "release": "API release resource",
    "project": "API project resource",
}
TARGET_PAGE_MS = 5.0
TARGET_REVALIDATION_MS = 2.0


# ---------------------------------------------------------------- in a copy's own process


def measure(requests: int, built: int) -> dict:
    """Every figure of the copy on ``sys.path`` first (``--measure``), as a dict."""
    import django  # noqa: PLC0415  (not _django: it would put this copy first on sys.path)

    django.setup()
    from django.db import connection  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    from packages_app.models import Release  # noqa: PLC0415
    from packages_app.pages import store  # noqa: PLC0415

    client = Client(HTTP_HOST=HOST, HTTP_ACCEPT_ENCODING="gzip")

    def get(url: str, **headers):
        response = client.get(url, **headers)
        if response.streaming:
            b"".join(response.streaming_content)
        if response.status_code not in (200, 304):
            raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
        return response

    def p50(url: str, count: int, before=None, **headers) -> float:
        times = []
        for _ in range(count):
            if before is not None:
                before()
            started = time.perf_counter()
            get(url, **headers)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    def queries(url: str, **headers) -> int:
        with CaptureQueriesContext(connection) as captured:
            get(url, **headers)
        return len(captured)

    base = f"/api/v1/projects/{PROJECT}"
    newest = Release.objects.filter(project__normalized_name=PROJECT).order_by("-sort_key").first()
    page = json.loads(_body(get(f"{base}/releases/")))
    urls = {
        "release page": f"{base}/releases/",
        "release page 2": page["next"].removeprefix(f"http://{HOST}"),
        "release": f"{base}/releases/{newest.version}/",
        "project": f"{base}/",
    }
    figures = {}
    for row, url in urls.items():
        for _ in range(3):
            answer = get(url)
        etag = answer["ETag"]
        if get(url, HTTP_IF_NONE_MATCH=etag).status_code != 304:
            raise SystemExit(f"{url}: no 304 on revalidation")
        figures[row] = {
            "p50_ms": p50(url, requests),
            "revalidation_p50_ms": p50(url, requests, HTTP_IF_NONE_MATCH=etag),
            "queries": queries(url),
            "revalidation_queries": queries(url, HTTP_IF_NONE_MATCH=etag),
            "bytes": len(answer.content),
            "gzip": answer.get("Content-Encoding") == "gzip",
        }
    figures["release page"]["built_p50_ms"] = p50(urls["release page"], built, before=store.forget_everything)
    return figures


def _body(response) -> bytes:
    import gzip  # noqa: PLC0415

    return gzip.decompress(response.content) if response.get("Content-Encoding") == "gzip" else response.content


# ---------------------------------------------------------------- the driver


def environment(data: Path, database_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only-" + "x" * 40,
        "ALLOWED_HOSTS": HOST,
        "READ_ACCESS": "public",
        "INDEX_DATA_DIR": str(data),
        "DJANGO_SETTINGS_MODULE": "indexsite.settings",
    }
    env.pop("REDIS_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def run_copy(source: Path, env: dict[str, str], pages: Path, args) -> dict:
    shutil.rmtree(pages, ignore_errors=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", str(source)]
    command += ["--requests", str(args.requests), "--built", str(args.built)]
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        command, env={**env, "PAGE_STORE_DIR": str(pages)}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{source}: {done.stderr[-2000:] or done.stdout[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def seed(env: dict[str, str], args) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO_ROOT, env=env, check=True)
    command = [sys.executable, str(BENCH_DIR / "seed.py"), "--releases", str(args.releases)]
    command += ["--small-projects", str(args.small_projects), "--no-files"]
    subprocess.run(command, cwd=REPO_ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def table(results: dict) -> str:
    copies = list(results["copies"])
    lines = [
        "| read | "
        + " | ".join(f"{c} p50 ms | {c} 304 p50 ms | {c} queries / 304" for c in copies)
        + (" | new / old p50 | new / old 304 |" if len(copies) == 2 else " |"),
        "|---" * (1 + 3 * len(copies) + (2 if len(copies) == 2 else 0)) + "|",
    ]
    for row, title in ROWS.items():
        cells = [title]
        for copy in copies:
            figures = results["median"][copy][row]
            cells += [
                f"{figures['p50_ms']:.2f}",
                f"{figures['revalidation_p50_ms']:.2f}",
                f"{figures['queries']} / {figures['revalidation_queries']}",
            ]
        if len(copies) == 2:
            old, new = (results["median"][c][row] for c in copies)
            cells += [
                f"{new['p50_ms'] / old['p50_ms']:.2f}",
                f"{new['revalidation_p50_ms'] / old['revalidation_p50_ms']:.2f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    built = ", ".join(f"{c} {results['median'][c]['release page']['built_p50_ms']:.2f} ms" for c in copies)
    lines.append("")
    lines.append(f"The release page built (page store emptied before each request), p50: {built}.")
    return "\n".join(lines)


def medians(runs: list[dict], copy: str) -> dict:
    figures: dict = {}
    for row in ROWS:
        names = runs[0][copy][row].keys()
        figures[row] = {
            name: statistics.median(run[copy][row][name] for run in runs)
            for name in names
            if isinstance(runs[0][copy][row][name], int | float) and not isinstance(runs[0][copy][row][name], bool)
        }
        figures[row]["gzip"] = runs[-1][copy][row]["gzip"]
        figures[row]["bytes"] = runs[-1][copy][row]["bytes"]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="the old copy of the code (default: measure this one only)")
    parser.add_argument("--releases", type=int, default=4632)
    parser.add_argument("--small-projects", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5, help="each copy this many times, order alternating")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per read and run")
    parser.add_argument("--built", type=int, default=20, help="timed builds of the release page per run")
    parser.add_argument("--database-url", default=None, help="an empty postgres:// database (default: SQLite)")
    parser.add_argument("--output", type=Path, help="every run's figures as JSON")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # inside a copy's process
    args = parser.parse_args()

    if args.measure is not None:
        sys.path.insert(0, str(args.measure.resolve()))
        os.chdir(args.measure)
        print(json.dumps(measure(args.requests, args.built)))
        return 0

    copies = {"new": REPO_ROOT} if args.baseline is None else {"old": args.baseline.resolve(), "new": REPO_ROOT}
    for label, source in copies.items():
        if not (source / "packages_app" / "pages" / "serve.py").exists():
            parser.error(f"{label} copy {source} is not a copy of the index")
    work = Path(tempfile.mkdtemp(prefix="api-cost-"))
    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="minutes"),
        "settings": {k: str(v) for k, v in vars(args).items() if k not in ("output", "measure")},
        "copies": {label: str(source) for label, source in copies.items()},
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
        "runs": [],
    }
    try:
        env = environment(work / "data", args.database_url)
        seed(env, args)
        for number in range(args.runs):
            order = list(copies) if number % 2 == 0 else list(reversed(copies))
            run = {label: run_copy(copies[label], env, work / f"pages-{label}", args) for label in order}
            results["runs"].append(run)
            print(f"run {number + 1} of {args.runs} done", file=sys.stderr)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"The benchmark could not run: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_after"] = os.getloadavg()[0]
    results["median"] = {label: medians(results["runs"], label) for label in copies}
    if args.output:
        args.output.write_text(json.dumps(results, indent=1))
    new = results["median"]["new"]["release page"]
    met = new["p50_ms"] <= TARGET_PAGE_MS and new["revalidation_p50_ms"] <= TARGET_REVALIDATION_MS
    print(
        f"{results['date']}: `{PROJECT}` with {args.releases} releases, {args.small_projects} small projects, "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}, in process (Django's test client, gzip accepted), "
        f"median of {args.runs} runs of {args.requests} requests; load average {results['load_before']:.1f} before, "
        f"{results['load_after']:.1f} after, on {results['cpus']} CPUs.\n"
    )
    print(table(results))
    print(
        f"\nTargets: API release page p50 ≤ {TARGET_PAGE_MS:g} ms: {new['p50_ms']:.2f} ms; "
        f"its revalidation ≤ {TARGET_REVALIDATION_MS:g} ms: {new['revalidation_p50_ms']:.2f} ms: "
        f"{'met' if met else 'NOT met'}."
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
