"""``python benchmarks/download_counts.py``: what counting downloads adds to a warm file download.

    .venv/bin/python benchmarks/download_counts.py [--downloads 2000] [--rounds 5]

In process, on a throw-away SQLite index (its own ``INDEX_DATA_DIR``), through Django's test
client: one 64 KiB wheel downloaded again and again, with ``DOWNLOAD_COUNTS`` on and off in
alternating rounds so the machine's load hits both alike; the counts are flushed between
rounds (as the workers' thread does, outside the requests). Prints the median time per
download of each way and the ratio on/off; the target is no measurable difference (within 5%).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import _throwaway  # noqa: E402

_throwaway.prepare("downloads-bench", READ_ACCESS="public", ALLOWED_HOSTS="testserver")
os.environ["DOWNLOAD_COUNT_FLUSH_SECONDS"] = "3600"  # flushed by the benchmark, between rounds

import _django  # noqa: E402, F401  (sets Django up: it comes before every import of Django or the index)

# isort: split
from django.conf import settings  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from packages_app import download_counts  # noqa: E402
from packages_app.models import File, PackageType  # noqa: E402
from packages_app.services import projects, releases  # noqa: E402
from packages_app.storage import package_storage  # noqa: E402


def one_file() -> str:
    release = releases.create_release(projects.create_project("bench"), "1.0")
    data = os.urandom(64 * 1024)
    path = "be/nc/" + "0" * 60 + "/bench-1.0-py3-none-any.whl"
    package_storage().save(path, ContentFile(data))
    File.objects.create(
        release=release,
        filename="bench-1.0-py3-none-any.whl",
        packagetype=PackageType.BDIST_WHEEL,
        python_version="py3",
        size=len(data),
        sha256_digest="1" * 64,
        md5_digest="2" * 32,
        blake2_256_digest="3" * 64,
        path=path,
    )
    return f"/packages/{path}"


def round_of(client: Client, url: str, downloads: int) -> list[float]:
    times = []
    for _ in range(downloads):
        started = time.perf_counter()
        response = client.get(url)
        for _chunk in response.streaming_content:
            pass
        response.close()
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--downloads", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    url = one_file()
    client = Client()
    round_of(client, url, 200)  # warm up
    medians: dict[bool, list[float]] = {True: [], False: []}
    for number in range(options.rounds):
        # Each way goes first in every other round: no order effect favours either.
        for counting in (True, False) if number % 2 == 0 else (False, True):
            settings.DOWNLOAD_COUNTS = counting
            medians[counting].append(statistics.median(round_of(client, url, options.downloads)))
            download_counts.flush()
    on, off = statistics.median(medians[True]), statistics.median(medians[False])
    print(f"## Download counting: {options.rounds} rounds of {options.downloads} warm downloads each way\n")
    print(f"load average {os.getloadavg()[0]:.1f}\n")
    print("| way | median per download, µs |")
    print("|---|---|")
    print(f"| counting on | {on * 1e6:.0f} |")
    print(f"| counting off | {off * 1e6:.0f} |")
    print(f"| ratio on/off | {on / off:.3f} |")
    return 0 if on / off <= 1.05 else 1


if __name__ == "__main__":
    sys.exit(main())
