"""``python benchmarks/request_floor.py``: what the smallest installer requests cost the server, in process.

    .venv/bin/python benchmarks/request_floor.py [--rounds 15] [--requests 200]

Through Django's test client and the real views and middleware (no network, no gunicorn), on
a throw-away SQLite index (its own ``INDEX_DATA_DIR``) or the database of ``DATABASE_URL``:
a project with one release and one wheel (and its ``.metadata``). Three requests as pip makes
them: the project's PEP 691 page, the ``.metadata`` file and the wheel. Two ways in the same
run, rounds interleaved: ``hot reads`` (as shipped: ``packages_app.hot_reads``, SQL compiled
once per process) and ``ORM each time`` (the lookups built through the ORM on every request,
as before). Prints a markdown table of the medians over the rounds of each round's mean time
per request, in microseconds, and the ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time

import _throwaway  # noqa: E402

_throwaway.prepare("floor-bench", READ_ACCESS="public", ALLOWED_HOSTS="testserver")

import _django  # noqa: E402, F401  (sets Django up: it comes before every import of Django or the index)

# isort: split
from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from packages_app import hot_reads, versions  # noqa: E402
from packages_app.models import File, Project, Release  # noqa: E402
from packages_app.storage import package_storage  # noqa: E402

NAME = "floor-bench"
JSON = "application/vnd.pypi.simple.v1+json"


def seed() -> str:
    """The project, its release and its wheel (bytes in storage); the wheel's path."""
    data = b"not really a wheel, but bytes to send"
    metadata = b"Metadata-Version: 2.1\nName: floor-bench\nVersion: 1.0\n"
    sha256 = hashlib.sha256(data).hexdigest()
    filename = "floor_bench-1.0-py3-none-any.whl"
    path = f"{sha256[:2]}/{sha256[2:]}/{filename}"
    project, _ = Project.objects.get_or_create(normalized_name=NAME, defaults={"name": NAME, "last_serial": 1})
    release, _ = Release.objects.get_or_create(project=project, version="1.0", defaults=versions.release_columns("1.0"))
    if not File.objects.filter(path=path).exists():
        storage = package_storage()
        storage.save(path, ContentFile(data))
        storage.save(path + ".metadata", ContentFile(metadata))
        File.objects.create(
            release=release,
            filename=filename,
            packagetype="bdist_wheel",
            python_version="py3",
            size=len(data),
            sha256_digest=sha256,
            md5_digest=hashlib.md5(data).hexdigest(),  # noqa: S324  (a listed digest, not security)
            blake2_256_digest=hashlib.blake2b(data, digest_size=32).hexdigest(),
            path=path,
            metadata_sha256=hashlib.sha256(metadata).hexdigest(),
        )
    return path


def orm_project_for_page(normalized: str):
    """How ``/simple/<name>/`` found its project before ``hot_reads``."""
    return Project.objects.only(*hot_reads.PROJECT_PAGE_FIELDS).by_name(normalized).first()


def orm_file_for_download(path: str):
    """How ``/packages/`` found its file before ``hot_reads``."""
    row = (
        File.objects.filter(path=path)
        .values_list(
            "size",
            "sha256_digest",
            "metadata_sha256",
            "upload_time",
            "release__project__status",
            "release__project_id",
            "release__project__visibility",
            "pk",
            "release_id",
        )
        .first()
    )
    return None if row is None else hot_reads.FileForDownload(*row)


SHIPPED = (hot_reads.project_for_page, hot_reads.file_for_download)
WAYS = {"hot reads": SHIPPED, "ORM each time": (orm_project_for_page, orm_file_for_download)}


def use(way: str) -> None:
    hot_reads.project_for_page, hot_reads.file_for_download = WAYS[way]  # type: ignore[assignment]


def mean_time(client: Client, url: str, headers: dict, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)
        response.close()
    return (time.perf_counter() - started) / requests * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200)
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    path = seed()
    requests = {
        "project page (PEP 691)": (f"/simple/{NAME}/", {"HTTP_ACCEPT": JSON, "HTTP_ACCEPT_ENCODING": "gzip"}),
        ".metadata": (f"/packages/{path}.metadata", {}),
        "wheel download": (f"/packages/{path}", {}),
    }
    client = Client()
    times: dict[tuple[str, str], list[float]] = {}
    for way in WAYS:  # warm both, and check they answer alike
        use(way)
        for url, headers in requests.values():
            mean_time(client, url, headers, 20)
    for round_number in range(options.rounds):
        ways = list(WAYS) if round_number % 2 == 0 else list(reversed(WAYS))
        for label, (url, headers) in requests.items():
            for way in ways:
                use(way)
                times.setdefault((label, way), []).append(mean_time(client, url, headers, options.requests))
    use("hot reads")
    print(f"## Request floor ({connection.vendor}), in process\n")
    print(f"load average {os.getloadavg()[0]:.1f}; median of {options.rounds} rounds of {options.requests} requests\n")
    print("| request | hot reads (µs) | ORM each time (µs) | ORM / hot |")
    print("|---|---|---|---|")
    for label in requests:
        hot, orm = (statistics.median(times[(label, way)]) for way in WAYS)
        print(f"| {label} | {hot:.0f} | {orm:.0f} | {orm / hot:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
