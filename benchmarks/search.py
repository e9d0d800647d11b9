"""``python benchmarks/search.py``: the web UI's search on an index of 100,000 projects.

    .venv/bin/python benchmarks/search.py [--projects 100000] [--requests 20]

In process, through Django's test client and the real view (``/search/?q=``), on a throw-away
SQLite index (its own ``INDEX_DATA_DIR``) or the database of ``DATABASE_URL`` (PostgreSQL: the
full-text path and migration 0015's index), which it fills with ``--projects`` projects of one
release each (``bulk_create``). Times, as the median of ``--requests`` requests each: a word of
many summaries, a rare word, a name prefix, and a text that matches nothing. Prints a markdown
table in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import _throwaway  # noqa: E402

_throwaway.prepare("search-bench", READ_ACCESS="public", ALLOWED_HOSTS="testserver")

import _django  # noqa: E402, F401  (sets Django up: it comes before every import of Django or the index)

# isort: split
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from packages_app import versions  # noqa: E402
from packages_app.models import Project, Release  # noqa: E402

BATCH = 5000
WORDS = ("barometer", "parser", "client", "toolkit", "plugin", "adapter", "schema", "driver")


def seed(count: int) -> None:
    if Project.objects.filter(normalized_name="bench-000000").exists():
        return
    for start in range(0, count, BATCH):
        projects = [
            Project(name=f"bench-{n:06d}", normalized_name=f"bench-{n:06d}", last_serial=n)
            for n in range(start, min(start + BATCH, count))
        ]
        Project.objects.bulk_create(projects, batch_size=BATCH)
        created = Project.objects.filter(normalized_name__in=[p.normalized_name for p in projects])
        Release.objects.bulk_create(
            [
                Release(
                    project=project,
                    version="1.0",
                    summary=f"A {WORDS[project.pk % len(WORDS)]} for thing {project.pk}"
                    + (" with a zeppelin" if project.pk % 10_000 == 0 else ""),
                    **versions.release_columns("1.0"),
                )
                for project in created
            ],
            batch_size=BATCH,
        )


def timed(client: Client, query: str, requests: int) -> float:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get("/search/", {"q": query})
        assert response.status_code == 200, response.status_code
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    # The pages' stylesheet link needs no collected manifest here.
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}).enable()
    started = time.perf_counter()
    seed(options.projects)
    seeded = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE packages_app_release; ANALYZE packages_app_project")
    client = Client()
    print(f"## Search on {options.projects:,} projects ({connection.vendor}, seeded in {seeded:.0f} s)\n")
    print(f"load average {os.getloadavg()[0]:.1f}, median of {options.requests} requests\n")
    print("| search | ms |")
    print("|---|---|")
    for label, query in (
        ("a word in 1 in 8 summaries", "barometer"),
        ("a rare word (10 summaries)", "zeppelin"),
        ("a name prefix", "bench-0999"),
        ("nothing matches", "qwertyuiop"),
    ):
        print(f"| {label} (`{query}`) | {timed(client, query, options.requests):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
