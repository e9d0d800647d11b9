"""``python benchmarks/retention.py``: cleaning a project of 10,000 dev releases.

    .venv/bin/python benchmarks/retention.py [--releases 10000] [--keep 100] [--runs 3]

Runs in process on a throw-away SQLite index (its own ``INDEX_DATA_DIR``; or the database of
``DATABASE_URL``, which it fills and empties), through the services ``manage.py
apply_retention`` uses. Per run: a project with one final release and ``--releases`` dev
releases (a wheel row each, written with ``bulk_create``) and a policy keeping the newest
``--keep``; then

- **plan**: the dry run's selection with file counts and sizes (``--dry-run``), seconds;
- **apply**: the real run, deleting every selected release through ``delete_release``
  (journaled, filenames registered), seconds, and releases deleted per second;
- **peak heap**: the largest Python heap the real run reached above its start
  (``tracemalloc``, in a separate pass: tracing slows the run), for 1/10 and all of the
  releases: bounded memory means it does not grow with the number deleted.

Prints a markdown table of medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc

import _throwaway  # noqa: E402

_throwaway.prepare("retention-bench")

import _django  # noqa: E402, F401  (sets Django up: it comes before every import of Django or the index)

# isort: split
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from packages_app import naming, versions  # noqa: E402
from packages_app.models import File, PackageType, Project, Release  # noqa: E402
from packages_app.services import projects, retention  # noqa: E402

BATCH = 2000


def seed(name: str, count: int) -> Project:
    project = projects.create_project(name)
    now = timezone.now()
    releases = [Release(project=project, version="1.0", created=now, **versions.release_columns("1.0"))]
    releases += [
        Release(project=project, version=f"1.1.dev{n}", created=now, **versions.release_columns(f"1.1.dev{n}"))
        for n in range(1, count + 1)
    ]
    Release.objects.bulk_create(releases, batch_size=BATCH)
    files = []
    for release in Release.objects.filter(project=project).only("pk", "version"):
        filename = f"{naming.wheel_name_part(name)}-{release.version}-py3-none-any.whl"
        digest = f"{release.pk:064x}"
        files.append(
            File(
                release=release,
                filename=filename,
                packagetype=PackageType.BDIST_WHEEL,
                python_version="py3",
                size=4096,
                sha256_digest=digest,
                md5_digest=digest[:32],
                blake2_256_digest=digest,
                path=f"{digest[:2]}/{digest[2:4]}/{digest}/{filename}",
            )
        )
    File.objects.bulk_create(files, batch_size=BATCH)
    # The running total the file services keep, which deleting through them lowers again.
    Project.objects.filter(pk=project.pk).update(total_size=sum(file.size for file in files))
    return project


def one_run(count: int, keep: int, trace: bool) -> dict[str, float]:
    name = f"retained-{count}-{time.monotonic_ns()}"
    project = seed(name, count)
    retention.add_policy(project, dev=True, keep_newest=keep)
    started = time.perf_counter()
    planned = list(retention.plan(project))
    plan_seconds = time.perf_counter() - started
    if trace:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    deleted = retention.apply(project)
    apply_seconds = time.perf_counter() - started
    peak = 0.0
    if trace:
        peak = (tracemalloc.get_traced_memory()[1] - base) / 2**20
        tracemalloc.stop()
    assert [item.version for item in deleted] == [item.version for item in planned]
    assert Release.objects.filter(project=project).count() == keep + 1
    projects.delete_project(Project.objects.get(pk=project.pk))
    return {"plan": plan_seconds, "apply": apply_seconds, "deleted": len(deleted), "peak": peak}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--releases", type=int, default=10_000)
    parser.add_argument("--keep", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    timed = [one_run(options.releases, options.keep, trace=False) for _ in range(options.runs)]
    small = one_run(options.releases // 10, options.keep, trace=True)
    large = one_run(options.releases, options.keep, trace=True)
    deleted = timed[0]["deleted"]
    apply_median = statistics.median(run["apply"] for run in timed)
    print(f"## Retention: {options.releases:,} dev releases, keep the newest {options.keep}\n")
    print(f"{options.runs} runs, load average {os.getloadavg()[0]:.1f}, database {_database()}\n")
    print("| figure | median |")
    print("|---|---|")
    print(f"| plan (dry run), s | {statistics.median(run['plan'] for run in timed):.2f} |")
    print(f"| apply, s ({deleted:,} releases deleted) | {apply_median:.2f} |")
    print(f"| releases deleted per second | {deleted / apply_median:,.0f} |")
    print(f"| peak heap above start, {small['deleted']:,.0f} deleted, MiB | {small['peak']:.1f} |")
    print(f"| peak heap above start, {large['deleted']:,.0f} deleted, MiB | {large['peak']:.1f} |")
    return 0


def _database() -> str:
    from django.db import connection

    return connection.vendor


if __name__ == "__main__":
    sys.exit(main())
