"""``python benchmarks/seed.py``: a benchmark-sized index in seconds.

    .venv/bin/python benchmarks/seed.py [--releases 4632] [--small-projects 10000] [--force]

It lives with the benchmarks, not among the index's management commands, so
that no operator runs it against a real index by mistake; and it refuses a
database that already holds a project unless given ``--force``. It runs with
the index's settings and environment (``DATABASE_URL``, ``INDEX_DATA_DIR``, ...).

One big project shaped like PyPI's ``ccxt`` (by default 4,632 releases, a
wheel and an sdist on every release but one in a hundred, a binary wheel more on
two in a hundred (9,264 files, as ccxt), a few yanked, a few
pre-releases, ``Requires-Python`` on the later ones, upload times spread over
eight years in version order) plus many one-release projects with one wheel
each, so that the root list is realistically long.

Rows are written with ``bulk_create`` in one write transaction, bypassing the
per-row services on purpose (they take a lock and write a journal entry per
call, which would take minutes), but leaving the same state the services
leave: every release, file and filename-registry row, one journal entry per
change (``create``, ``new release``, ``add <pyversion> file <name>``,
``yank release``) in time order, each project's ``last_serial`` on its
newest entry and its ``total_size`` the sum of its files' sizes. With
``--with-files`` the distributions themselves (tiny but
valid wheels and sdists, made here) and each wheel's PEP 658 ``.metadata``
are written to package storage at their content-addressed paths; without it,
the rows are the same (the archives are still built, for their digests) and
the download URLs answer 404.

For benchmarks and demos only: it refuses to touch a name that exists.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import _django  # noqa: F401  (sets Django up: it comes before every import of Django or the index)

# isort: split
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from harness import dists
from packages_app import naming, versions
from packages_app.models import File, FilenameRegistry, JournalEntry, PackageType, Project, Release
from packages_app.services import journal
from packages_app.storage import distribution_path, metadata_path, package_storage

DEFAULT_RELEASES = 4632
DEFAULT_SMALL_PROJECTS = 10_000
BATCH_SIZE = 1000
# Checks for existing names and filenames go to the database this many at a time.
LOOKUP_CHUNK = 500

# Upload times: the big project's releases are spread evenly over this span in
# version order; the small projects are scattered over the same years.
FIRST_UPLOAD = datetime(2017, 5, 15, 9, 0, tzinfo=UTC)
LAST_UPLOAD = datetime(2025, 9, 30, 18, 0, tzinfo=UTC)
BINARY_TAG = "cp311-cp311-manylinux_2_17_x86_64"
USER_AGENT = "twine/5.1.1 CPython/3.11.9"
YANK_REASONS = (
    "Broken build: the exchange modules are missing",
    "Wrong Python version range",
    "Released by mistake",
    "Regression in order book handling, use the next release",
)
SUMMARY = (
    "A cryptocurrency trading API with more than 100 exchanges in JavaScript / TypeScript / Python / C# / PHP / Go"
)
DESCRIPTION = (
    "# CCXT - CryptoCurrency eXchange Trading Library\n\n"
    "A library to connect and trade with cryptocurrency exchanges and payment processing services "
    "worldwide. It provides quick access to market data for storage, analysis, visualization, "
    "indicator development, algorithmic trading, strategy backtesting, bot programming, and related "
    "software engineering.\n\n" * 4
)
CLASSIFIERS = [
    "Development Status :: 5 - Production/Stable",
    "Intended Audience :: Developers",
    "Intended Audience :: Financial and Insurance Industry",
    "License :: OSI Approved :: MIT License",
    "Operating System :: OS Independent",
    "Programming Language :: Python :: 3",
    "Topic :: Office/Business :: Financial :: Investment",
]

# ---------------------------------------------------------------- archives


def _metadata(name: str, version: str, requires_python: str) -> bytes:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        "Summary: Benchmark distribution made by seed_benchmark",
        "License: MIT",
    ]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    return ("\n".join(lines) + "\n").encode()


# harness.dists pins archive timestamps, so a distribution's bytes (and so its
# digests and path) depend only on its name and version.


def build_wheel(name: str, version: str, tag: str, requires_python: str) -> tuple[bytes, bytes]:
    """A tiny valid wheel (module, METADATA, WHEEL, RECORD) and its METADATA bytes."""
    metadata = _metadata(name, version, requires_python)
    data = dists.wheel_bytes(naming.wheel_name_part(name), version, metadata, tag=tag, generator="seed_benchmark")
    return data, metadata


def build_sdist(name: str, version: str, requires_python: str) -> bytes:
    """A tiny valid PEP 625 sdist: one top folder with PKG-INFO and the module."""
    return dists.sdist_bytes(naming.wheel_name_part(name), version, _metadata(name, version, requires_python))


# ---------------------------------------------------------------- the plan


@dataclass
class Change:
    """A journal entry to write, with the index of the project it moves."""

    when: datetime
    project: int
    action: str
    kind: str  # services.journal's vocabulary, as the services write it
    version: str = ""
    filename: str = ""


def big_project_versions(count: int) -> list[str]:
    """ccxt-like versions: 100 patches per minor, 15 minors per major, a release candidate every 500."""
    found = []
    for i in range(count):
        major, minor, patch = 1 + i // 1500, (i % 1500) // 100, i % 100
        suffix = "rc1" if i % 500 == 250 else ""
        found.append(f"{major}.{minor}.{patch}{suffix}")
    return found


def requires_python_for(position: float) -> str:
    """None on the oldest releases, then ever newer floors, as real projects drift."""
    if position < 0.4:
        return ""
    return ">=3.7" if position < 0.8 else ">=3.8"


class Seeder:
    def __init__(self, *, name: str, releases: int, small_projects: int, with_files: bool) -> None:
        self.name = name
        self.release_count = releases
        self.small_count = small_projects
        self.with_files = with_files
        self.rng = random.Random(20250930)  # noqa: S311 - reproducible data, not secrets
        self.projects: list[Project] = []
        self.releases: list[Release] = []
        self.files: list[File] = []
        self.changes: list[Change] = []
        # (path, bytes) to store, in the order they were made.
        self.blobs: list[tuple[str, bytes]] = []
        self.fileless = 0
        self.yanked = 0

    # -- names

    def small_name(self, number: int) -> str:
        return f"{self.name}-small-{number:05d}"

    def planned_names(self) -> list[str]:
        return [self.name] + [self.small_name(n) for n in range(1, self.small_count + 1)]

    # -- rows

    def _project(self, name: str, created: datetime) -> int:
        self.projects.append(Project(name=name, normalized_name=naming.normalize_name(name), created=created))
        index = len(self.projects) - 1
        self.changes.append(Change(created, index, "create", journal.PROJECT_CREATED))
        return index

    def _release(self, project: int, version: str, created: datetime, requires_python: str, **fields) -> Release:
        release = Release(
            project=self.projects[project],
            version=version,
            **versions.release_columns(version),
            created=created,
            metadata_version="2.1",
            requires_python=requires_python,
            **fields,
        )
        self.releases.append(release)
        self.changes.append(Change(created, project, "new release", journal.RELEASE_CREATED, version))
        return release

    def _file(
        self,
        project: int,
        release: Release,
        filename: str,
        data: bytes,
        *,
        packagetype: str,
        python_version: str,
        when: datetime,
        core_metadata: bytes | None = None,
    ) -> None:
        sha256 = hashlib.sha256(data).hexdigest()
        blake2 = hashlib.blake2b(data, digest_size=32).hexdigest()
        path = distribution_path(blake2, filename)
        file = File(
            release=release,
            filename=filename,
            packagetype=packagetype,
            python_version=python_version,
            requires_python=release.requires_python,
            size=len(data),
            sha256_digest=sha256,
            md5_digest=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            blake2_256_digest=blake2,
            upload_time=when,
            user_agent=USER_AGENT,
            path=path,
        )
        if core_metadata is not None:
            file.metadata_sha256 = hashlib.sha256(core_metadata).hexdigest()
            file.metadata_blake2_256 = hashlib.blake2b(core_metadata, digest_size=32).hexdigest()
        self.files.append(file)
        self.projects[project].total_size += file.size  # as the file services keep it
        self.changes.append(
            Change(
                when, project, f"add {python_version} file {filename}", journal.FILE_ADDED, release.version, filename
            )
        )
        if self.with_files:
            self.blobs.append((path, data))
            if core_metadata is not None:
                self.blobs.append((metadata_path(path), core_metadata))

    def _wheel(self, project: int, release: Release, when: datetime, tag: str = "") -> None:
        name = release.project.name
        # Pure-Python wheels; those that dropped Python 2 say so in the tag, as ccxt's did.
        python = "py3" if release.requires_python else "py2.py3"
        tag = tag or f"{python}-none-any"
        python = tag.split("-", 1)[0]
        data, core_metadata = build_wheel(name, release.version, tag, release.requires_python)
        filename = f"{naming.wheel_name_part(name)}-{release.version}-{tag}.whl"
        self._file(
            project,
            release,
            filename,
            data,
            packagetype=PackageType.BDIST_WHEEL,
            python_version=python,
            when=when,
            core_metadata=core_metadata,
        )

    def _sdist(self, project: int, release: Release, when: datetime) -> None:
        name = release.project.name
        data = build_sdist(name, release.version, release.requires_python)
        filename = f"{naming.wheel_name_part(name)}-{release.version}.tar.gz"
        self._file(project, release, filename, data, packagetype=PackageType.SDIST, python_version="source", when=when)

    def plan_big_project(self) -> None:
        names = big_project_versions(self.release_count)
        names.sort(key=versions.sort_key)
        span = (LAST_UPLOAD - FIRST_UPLOAD).total_seconds()
        step = span / max(len(names), 1)
        project = self._project(self.name, FIRST_UPLOAD - timedelta(minutes=5))
        for i, version in enumerate(names):
            # Evenly spaced, with jitter smaller than the spacing: ascending in version order.
            moment = FIRST_UPLOAD + timedelta(seconds=i * step + self.rng.uniform(0, step * 0.5))
            release = self._release(
                project,
                version,
                moment,
                requires_python_for(i / max(len(names), 1)),
                summary=SUMMARY,
                description=DESCRIPTION,
                description_content_type="text/markdown",
                author="Igor Kroitor",
                author_email="igor.kroitor@ccxt.trade",
                license="MIT",
                keywords="algorithmic, algotrading, altcoin, api, arbitrage, bitcoin, crypto, exchange, trading",
                classifiers=CLASSIFIERS,
                home_page="https://ccxt.com",
                project_urls={"Homepage": "https://ccxt.com", "Source": "https://github.com/ccxt/ccxt"},
                requires_dist=["setuptools>=60.9.0", "certifi>=2018.1.18", "requests>=2.18.4"],
            )
            if i % 100 == 57:
                self.fileless += 1  # registered, never uploaded to (PyPI has many such)
                continue
            self._wheel(project, release, moment + timedelta(seconds=20))
            self._sdist(project, release, moment + timedelta(seconds=40))
            if i % 100 in (58, 59):
                # A binary build on two releases in a hundred, which keeps the file count at
                # ccxt's 2 x releases despite the file-less ones.
                self._wheel(project, release, moment + timedelta(seconds=60), tag=BINARY_TAG)
            if i % 500 == 123:
                self.yanked += 1
                release.yanked = True
                # One yanked without a reason, which the API shows as a plain ``true``.
                release.yanked_reason = "" if i == 123 else YANK_REASONS[(i // 500) % len(YANK_REASONS)]
                self.changes.append(
                    Change(moment + timedelta(days=1), project, "yank release", journal.RELEASE_YANKED, version)
                )

    def plan_small_projects(self) -> None:
        span = (LAST_UPLOAD - FIRST_UPLOAD).total_seconds()
        for number in range(1, self.small_count + 1):
            moment = FIRST_UPLOAD + timedelta(seconds=self.rng.uniform(0, span))
            project = self._project(self.small_name(number), moment)
            version = f"{1 + number % 3}.{number % 17}.{number % 7}"
            release = self._release(
                project,
                version,
                moment + timedelta(seconds=5),
                ">=3.9" if number % 3 == 0 else "",
                summary=f"Small benchmark project number {number}",
                license="MIT",
            )
            self._wheel(project, release, moment + timedelta(seconds=10))

    # -- storage

    def store_blobs(self) -> tuple[list[str], int]:
        """Write every planned file; returns the paths written and their bytes."""
        storage = package_storage()
        written: list[str] = []
        total = 0
        local = isinstance(storage, FileSystemStorage)
        try:
            for path, data in self.blobs:
                if local:
                    # Straight to disk: the storage's atomic save fsyncs every file, which
                    # would make tens of thousands of tiny files take minutes.
                    full = storage.path(path)
                    os.makedirs(os.path.dirname(full), exist_ok=True)
                    with open(full, "wb") as out:
                        out.write(data)
                else:
                    storage.save(path, ContentFile(data))
                written.append(path)
                total += len(data)
        except BaseException:
            remove_blobs(written)
            raise
        return written, total

    # -- database

    def write_rows(self) -> tuple[int, int]:
        """Every row in one write transaction; returns the first and last serial written."""
        with journal.write_transaction():
            Project.objects.bulk_create(self.projects, batch_size=BATCH_SIZE)
            Release.objects.bulk_create(self.releases, batch_size=BATCH_SIZE)
            File.objects.bulk_create(self.files, batch_size=BATCH_SIZE)
            FilenameRegistry.objects.bulk_create(
                [FilenameRegistry(filename=file.filename, created=file.upload_time) for file in self.files],
                batch_size=BATCH_SIZE,
            )
            # Serials in time order, as a real history would have them.
            self.changes.sort(key=lambda change: change.when)
            entries = JournalEntry.objects.bulk_create(
                [
                    JournalEntry(
                        name=self.projects[change.project].name,
                        normalized_name=self.projects[change.project].normalized_name,
                        version=change.version,
                        filename=change.filename,
                        action=change.action,
                        kind=change.kind,
                        submitted_date=change.when,
                    )
                    for change in self.changes
                ],
                batch_size=BATCH_SIZE,
            )
            if any(entry.pk is None for entry in entries):
                raise CommandError("This database does not return ids from bulk inserts; cannot set serials.")
            for change, entry in zip(self.changes, entries, strict=True):
                project = self.projects[change.project]
                project.last_serial = max(project.last_serial, entry.pk)
            Project.objects.bulk_update(self.projects, ["last_serial", "total_size"], batch_size=BATCH_SIZE)
        return (entries[0].pk, entries[-1].pk) if entries else (0, 0)


def remove_blobs(paths: list[str]) -> None:
    storage = package_storage()
    for path in paths:
        with contextlib.suppress(OSError):  # an orphan file is harmless for a benchmark index
            storage.delete(path)


def _chunks(items: list[str], size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Command(BaseCommand):
    help = (
        "Seed a benchmark index: one project shaped like PyPI's ccxt (4,632 releases, a wheel and an sdist "
        "on all but 1 in 100) and 10,000 one-release projects with one wheel each. Refuses a database that "
        "holds any project (unless --force) and, always, existing names."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--releases", type=int, default=DEFAULT_RELEASES, help=f"Releases of the big project ({DEFAULT_RELEASES})."
        )
        parser.add_argument(
            "--small-projects",
            type=int,
            default=DEFAULT_SMALL_PROJECTS,
            help=f"One-release projects with one wheel each ({DEFAULT_SMALL_PROJECTS}).",
        )
        parser.add_argument("--project-name", default="ccxt", help="Name of the big project (ccxt).")
        files = parser.add_mutually_exclusive_group()
        files.add_argument(
            "--with-files",
            dest="with_files",
            action="store_true",
            default=True,
            help="Write the distributions and .metadata files to package storage (the default).",
        )
        files.add_argument(
            "--no-files",
            dest="with_files",
            action="store_false",
            help="Rows only (same digests); downloads answer 404.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed a database that already holds projects (never one whose names clash).",
        )

    def handle(
        self, *args, releases: int, small_projects: int, project_name: str, with_files: bool, force: bool, **options
    ):
        started = time.monotonic()
        if releases < 0 or small_projects < 0:
            raise CommandError("--releases and --small-projects cannot be negative.")
        if not force and Project.objects.exists():
            raise CommandError(
                "This database already holds projects: the seed writes thousands of fake ones. "
                "Seed an empty database, or pass --force to add to this one."
            )
        if not naming.is_valid_project_name(project_name):
            raise CommandError(f"'{project_name}' is not a valid project name.")
        seeder = Seeder(name=project_name, releases=releases, small_projects=small_projects, with_files=with_files)
        self.refuse_existing(seeder)

        seeder.plan_big_project()
        seeder.plan_small_projects()
        planned = time.monotonic()
        self.refuse_registered_filenames(seeder)

        written, stored_bytes = seeder.store_blobs() if with_files else ([], 0)
        stored = time.monotonic()
        try:
            first_serial, last_serial = seeder.write_rows()
        except IntegrityError as exc:
            remove_blobs(written)
            raise CommandError(f"Could not seed (did another writer create one of these names?): {exc}") from exc
        except BaseException:
            remove_blobs(written)
            raise
        finished = time.monotonic()

        big_files = sum(1 for file in seeder.files if file.release.project is seeder.projects[0])
        self.stdout.write(
            f"Seeded {project_name}: {releases:,} releases ({seeder.fileless:,} without files, "
            f"{seeder.yanked:,} yanked), {big_files:,} files.\n"
            f"Seeded {small_projects:,} small projects with {len(seeder.files) - big_files:,} files.\n"
            f"Total: {len(seeder.projects):,} projects, {len(seeder.releases):,} releases, "
            f"{len(seeder.files):,} files, {len(seeder.changes):,} journal entries "
            f"(serials {first_serial}-{last_serial}).\n"
            + (
                f"Stored {len(written):,} files ({stored_bytes / 1024**2:.1f} MiB) in package storage.\n"
                if with_files
                else "No files stored (--no-files).\n"
            )
            + f"Took {finished - started:.1f} s: {planned - started:.1f} s building, "
            f"{stored - planned:.1f} s storing files, {finished - stored:.1f} s writing the database."
        )

    def refuse_existing(self, seeder: Seeder) -> None:
        if Project.objects.filter(normalized_name=naming.normalize_name(seeder.name)).exists():
            raise CommandError(
                f"A project named '{seeder.name}' already exists; the seed only seeds new names "
                "(use a fresh database or another --project-name)."
            )
        names = [naming.normalize_name(name) for name in seeder.planned_names()]
        for chunk in _chunks(names, LOOKUP_CHUNK):
            clash = Project.objects.filter(normalized_name__in=chunk).values_list("name", flat=True).first()
            if clash is not None:
                raise CommandError(f"A project named '{clash}' already exists; the seed only seeds new names.")

    def refuse_registered_filenames(self, seeder: Seeder) -> None:
        filenames = [file.filename for file in seeder.files]
        for chunk in _chunks(filenames, LOOKUP_CHUNK):
            clash = FilenameRegistry.objects.filter(filename__in=chunk).values_list("filename", flat=True).first()
            if clash is not None:
                raise CommandError(f"The filename '{clash}' was used before and can never be used again.")


if __name__ == "__main__":
    Command().run_from_argv([sys.argv[0], "seed", *sys.argv[1:]])
