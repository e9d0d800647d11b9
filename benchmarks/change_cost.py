"""``python benchmarks/change_cost.py``: what the first request after a change costs.

    .venv/bin/python benchmarks/seed.py            # once, on a throw-away INDEX_DATA_DIR / DATABASE_URL
    .venv/bin/python benchmarks/change_cost.py [--project ccxt] [--changes 15]

Runs in process, with the index's settings and environment (``DATABASE_URL``,
``INDEX_DATA_DIR``, ...), through Django's test client: the same views, store and
queries as under gunicorn, without the network. Each round makes one change to the
project through the services (a new release without files, or a yank of the newest
release, alternately: the common changes), then times the first request of each page
with ``Accept-Encoding: gzip``, as a client after a change meets it.

Two ways in the same run, rounds interleaved so that the machine's load hits both alike:

- ``incremental``: the index as shipped (``simple.pieces`` advances the kept pieces);
- ``full``: the same request with the pages built from every row, as before incremental
  builds (``pieces``, ``root_list`` and ``json_pieces`` replaced by the full builders in
  this process only; the HTML root then kept under the global serial, as it was).

Prints a markdown table of medians (ms) and the ratios. ``--samples FILE`` also writes every
timing as JSON (``{"incremental": {page: [ms, ...]}, "full": {...}}``), for a comparison of two
trees of the index run alternately on the same data (``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

# The pages are read anonymously, as the suite reads them: an index open to reads.
os.environ.setdefault("READ_ACCESS", "public")

import _django  # noqa: E402, F401  (sets Django up: it comes before every import of Django or the index)

# isort: split
from django.db import connection
from django.test import Client

from legacy_api import json_pages, json_pieces
from packages_app.models import File, Project
from packages_app.services import releases
from packages_app.simple import builders, pieces, root_list, views

JSON_V1 = "application/vnd.pypi.simple.v1+json"
PAGES = {
    "project, PEP 691 JSON": ("/simple/{}/", {"HTTP_ACCEPT": JSON_V1}),
    "project, HTML": ("/simple/{}/", {"HTTP_ACCEPT": "text/html"}),
    "project, legacy JSON": ("/pypi/{}/json", {}),
    "root, PEP 691 JSON": ("/simple/", {"HTTP_ACCEPT": JSON_V1}),
    "root, HTML": ("/simple/", {"HTTP_ACCEPT": "text/html"}),
}
# How the pages are built as shipped, and as every change rebuilt them before incremental builds.
INCREMENTAL = (
    pieces.project_body,
    root_list.json_body,
    root_list.html_body,
    root_list.list_serial,
    json_pieces.build_page,
)


def full_project_body(project, files_base_url, renderer) -> bytes:
    return views.render(renderer, views.url_layout(), builders.project_page(project, files_base_url))


def full_root_json(serial, project_url, renderer, frame) -> bytes:
    return views.render(renderer, views.url_layout(), builders.index_page(serial))


def full_root_html(serial, project_url, frame) -> bytes:
    return views.render(views.SimpleTextHTMLRenderer(), views.url_layout(), builders.index_page(serial))


def full_legacy_page(project, base):
    return json_pages.build_page(project, None, base)


FULL = (full_project_body, full_root_json, full_root_html, lambda serial, project_url: serial, full_legacy_page)


def _use(way: tuple) -> None:
    (pieces.project_body, root_list.json_body, root_list.html_body, root_list.list_serial, json_pieces.build_page) = way


def _change(project: Project, number: int) -> None:
    if number % 2:
        newest = project.releases.newest_first().first()
        if newest.yanked:
            releases.unyank_release(newest)
        else:
            releases.yank_release(newest, "benchmark")
    else:
        releases.create_release(project, f"99999.{int(time.time())}.{number}")


def _first_requests(client: Client, name: str) -> dict[str, float]:
    timings = {}
    for label, (path, headers) in PAGES.items():
        started = time.perf_counter()
        response = client.get(path.format(name), HTTP_HOST="127.0.0.1", HTTP_ACCEPT_ENCODING="gzip", **headers)
        body = response.getvalue()
        timings[label] = (time.perf_counter() - started) * 1000
        if response.status_code != 200 or response.get("Content-Encoding") != "gzip" or not body:
            raise SystemExit(f"{label}: {response.status_code} {response.get('Content-Encoding')!r}")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="ccxt")
    parser.add_argument("--changes", type=int, default=15, help="changes per way (default 15)")
    parser.add_argument("--samples", help="also write every timing to this file, as JSON")
    args = parser.parse_args()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # a freshly seeded database has no statistics yet; autovacuum would
    project = Project.objects.get(normalized_name=args.project)
    client = Client()
    _first_requests(client, args.project)  # pieces and legacy entries as a running index has them
    results: dict[str, dict[str, list[float]]] = {"incremental": {}, "full": {}}
    for number in range(2 * args.changes):
        way = "incremental" if number % 4 < 2 else "full"
        _use(INCREMENTAL if way == "incremental" else FULL)
        _change(project, number)
        project.refresh_from_db()
        for label, ms in _first_requests(client, args.project).items():
            results[way].setdefault(label, []).append(ms)
    _use(INCREMENTAL)
    if args.samples:
        with open(args.samples, "w") as output:
            json.dump(results, output)
    files = File.objects.filter(release__project=project).count()
    print(f"First request after a change, gzip, {args.project} ({files} files), median of {args.changes} changes")
    print()
    print("| page | full build (ms) | incremental (ms) | ratio |")
    print("|---|---|---|---|")
    for label in PAGES:
        full = statistics.median(results["full"][label])
        incremental = statistics.median(results["incremental"][label])
        print(f"| {label} | {full:.1f} | {incremental:.1f} | {full / incremental:.1f}x |")


if __name__ == "__main__":
    main()
