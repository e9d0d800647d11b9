"""Warming the upstream cache: ``manage.py prefetch_upstream`` (docs/upstream.md#warming-the-cache).

Each requirement (PEP 508, or read from pip-style requirement files) names a project that
is fetched from upstream exactly as a client's first downloads would fetch it: the same
name rules (the guard; local wins), the files ``/simple/<name>/`` offers now (the cut-offs,
not yanked, a quarantined project offers none), every download checked against its sha256
and kept only then. By default only the newest version the specifier allows (pre-releases
only when it asks for one, or when nothing else matches, as pip chooses), with every file
of it (all wheels and the sdist: the clients' platforms are not known here); with
``all_versions``, every version it allows. Dependencies are not resolved: list them too (a
``pip freeze`` or lock export does).

``plan`` reads the pages and chooses the files; ``fetch`` downloads those not kept yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from packages_app import upstream
from packages_app.models import Project
from packages_app.naming import normalize_name
from packages_app.simple import timetravel
from packages_app.storage import METADATA_SUFFIX, package_storage
from packages_app.upstream import client, cooldown, files, guard, pages
from packages_app.upstream.pages import UpstreamFile


class PrefetchError(Exception):
    """Nothing can be prefetched at all (no upstream set, a requirement file missing)."""


@dataclass
class Wanted:
    """One project asked for: its requirements on the command line and in files, combined."""

    name: str  # normalised
    specifier: SpecifierSet
    texts: list[str] = field(default_factory=list)


@dataclass
class Planned:
    name: str
    entry: UpstreamFile
    kept: bool  # the file itself is kept already (its .metadata may not be)


@dataclass
class Plan:
    files: list[Planned] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # name: why (guard, local): not a failure
    failed: dict[str, str] = field(default_factory=dict)  # name (or requirement text): why
    warnings: list[str] = field(default_factory=list)
    # Filled in by ``fetch``:
    fetched_files: int = 0
    fetched_metadata: int = 0
    fetched_bytes: int = 0

    @property
    def to_fetch(self) -> list[Planned]:
        return [planned for planned in self.files if not planned.kept]

    @property
    def already_kept(self) -> int:
        return sum(planned.kept for planned in self.files)

    @property
    def total_bytes(self) -> int | None:
        """The bytes of the files to fetch, when upstream gave every size (None otherwise)."""
        sizes = [planned.entry.size for planned in self.to_fetch]
        return None if None in sizes else sum(size or 0 for size in sizes)


# ---------------------------------------------------------------- requirements


_OPTION_WITH_VALUE = re.compile(r"(-r|--requirement)(?:\s*=\s*|\s+|(?=\S))(?P<path>\S+)\s*\Z")
# Per-requirement options pip accepts after a requirement (--hash=..., --config-settings ...).
_TRAILING_OPTIONS = re.compile(r"\s+--?[A-Za-z].*\Z")
_COMMENT = re.compile(r"(^|\s+)#.*\Z")


def read_requirement_file(path: Path, warnings: list[str], _seen: frozenset[Path] = frozenset()) -> list[str]:
    """The requirement lines of a pip requirement file, following ``-r`` (relative to the file).

    Comments, blank lines and line continuations are read as pip reads them; option lines,
    editables and URLs or paths are left out, each with a warning.
    """
    resolved = path.resolve()
    if resolved in _seen:
        warnings.append(f"{path}: already being read (an -r loop), not read again.")
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PrefetchError(f"Cannot read the requirement file '{path}': {error.strerror or error}.") from None
    lines: list[str] = []
    for number, line in _logical_lines(text):
        where = f"{path}:{number}"
        line = _COMMENT.sub("", line).strip()
        if not line:
            continue
        if line.startswith("-"):
            nested = _OPTION_WITH_VALUE.match(line)
            if nested:
                lines.extend(read_requirement_file(path.parent / nested["path"], warnings, _seen | {resolved}))
            elif line.startswith(("-e", "--editable")):
                warnings.append(f"{where}: editable requirement skipped: {line}")
            else:
                warnings.append(f"{where}: option line skipped: {line}")
            continue
        requirement = _TRAILING_OPTIONS.sub("", line)
        if _is_url_or_path(requirement):
            warnings.append(f"{where}: URL or path skipped (only names are fetched from upstream): {line}")
            continue
        lines.append(requirement)
    return lines


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """The lines of ``text`` with their number, ``\\``-continued lines joined (as pip does)."""
    pending, start = "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        yield start, pending + line
        pending = ""
    if pending:
        yield start, pending


_ARCHIVES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def _is_url_or_path(text: str) -> bool:
    return (
        "://" in text.split("@", 1)[0]
        or text.startswith((".", "/", "~", "file:"))
        or text.endswith(_ARCHIVES)
        or re.match(r"\w+\+\w+:", text) is not None  # git+https:
    )


def wanted(texts: Iterable[str], plan: Plan) -> list[Wanted]:
    """The projects ``texts`` ask for, in order, with the specifiers of one name combined (as pip does)."""
    by_name: dict[str, Wanted] = {}
    for text in texts:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            plan.failed[text] = f"not a valid requirement ({error})"
            continue
        if requirement.url:
            plan.warnings.append(f"{text}: a URL requirement, skipped (only names are fetched from upstream).")
            continue
        name = normalize_name(requirement.name)
        if name in by_name:
            by_name[name].specifier &= requirement.specifier
            by_name[name].texts.append(text)
        else:
            by_name[name] = Wanted(name, requirement.specifier, [text])
    return list(by_name.values())


# ---------------------------------------------------------------- choosing the files


def make_plan(requirements: Iterable[str], requirement_files: Iterable[Path], *, all_versions: bool = False) -> Plan:
    """Read every requirement and upstream's pages, and choose the files to keep.

    Raises ``PrefetchError`` when no upstream is set or a requirement file cannot be read.
    """
    if not upstream.enabled():
        raise PrefetchError("UPSTREAM_INDEX_URL is not set: there is no upstream index to prefetch from.")
    try:
        cooldown.check_settings()
        timetravel.check_settings()
    except ImproperlyConfigured as error:
        raise PrefetchError(str(error)) from None
    plan = Plan()
    texts = list(requirements)
    for path in requirement_files:
        texts.extend(read_requirement_file(path, plan.warnings))
    storage = package_storage()
    for want in wanted(texts, plan):
        for entry in _choose(want, all_versions, plan):
            plan.files.append(Planned(want.name, entry, storage.exists(pages.file_path(want.name, entry))))
    return plan


def _choose(want: Wanted, all_versions: bool, plan: Plan) -> list[UpstreamFile]:
    """The files of ``want`` to keep; a skip or a failure is written into ``plan`` instead."""
    name = want.name
    refusal = guard.refusal(name)
    if refusal is not None:
        plan.skipped[name] = refusal
        return []
    if Project.objects.by_name(name).exists():
        plan.skipped[name] = f"'{name}' is a project of this index: it is served from here, never from upstream."
        return []
    try:
        page, stale = pages.current(name)
    except pages.UpstreamNotFound:
        plan.failed[name] = "not found on the upstream index."
        return []
    except client.UpstreamError as error:
        plan.failed[name] = f"upstream error: {error}."
        return []
    if stale:
        plan.warnings.append(f"{name}: upstream unavailable, its last good page is used ({stale}).")
    if page.status == "quarantined":
        plan.failed[name] = "quarantined upstream (PEP 792): no files are offered."
        return []
    shown = _shown_now(name, page)
    by_version: dict[Version, list[UpstreamFile]] = {}
    for entry in shown.files:
        version = _version(entry.filename)
        if version is not None and not entry.yanked:
            by_version.setdefault(version, []).append(entry)
    # pip's choice: pre-releases when the specifier names one, or when nothing else matches.
    matching = sorted(want.specifier.filter(by_version))
    if not matching:
        held_back = len(page.files) - len(shown.files)
        note = f" ({held_back} file(s) held back by the cool-down)" if held_back else ""
        specifier = str(want.specifier) or "any version"
        plan.failed[name] = f"no file offered matches {specifier}{note}."
        return []
    chosen = matching if all_versions else matching[-1:]
    return [entry for version in chosen for entry in by_version[version]]


def _shown_now(name: str, page: pages.UpstreamPage) -> pages.UpstreamPage:
    """``page`` as ``/simple/<name>/`` offers it now: under the upstream cut-offs and ``SIMPLE_DEFAULT_COOLDOWN``."""
    return cooldown.offered(page, cooldown.cutoff(name, timetravel.default_view().for_project(name)))


def _version(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


# ---------------------------------------------------------------- fetching


def fetch(plan: Plan, on_bytes: Callable[[int], None] | None = None) -> None:
    """Download the planned files not kept yet (and missing ``.metadata``), counting into ``plan``.

    A failed file fails its project (in ``plan.failed``, with the reasons of each failed file);
    every other file, of that project too, is still fetched.
    """
    storage = package_storage()
    for planned in plan.files:
        path = pages.file_path(planned.name, planned.entry)
        paths = [path, path + METADATA_SUFFIX] if planned.entry.metadata_sha256 else [path]
        missing = [candidate for candidate in paths if not storage.exists(candidate)]
        if not missing:
            continue
        try:
            files.fetch_and_keep(planned.name, planned.entry, on_bytes=on_bytes)
        except (client.UpstreamError, files.HashMismatch, files.TooSlow) as error:
            _fail(plan, planned, str(error))
        except client.read_stream_errors() as error:
            _fail(plan, planned, f"the download was cut short ({error})")
        for candidate in missing:  # what was kept, even when a later step failed (the .metadata)
            if storage.exists(candidate):
                plan.fetched_bytes += storage.size(candidate)
                if candidate.endswith(METADATA_SUFFIX):
                    plan.fetched_metadata += 1
                else:
                    plan.fetched_files += 1


def _fail(plan: Plan, planned: Planned, why: str) -> None:
    failure = f"{planned.entry.filename}: {why}."
    earlier = plan.failed.get(planned.name)
    plan.failed[planned.name] = f"{earlier} {failure}" if earlier else failure


def summary(plan: Plan) -> list[str]:
    """The report's lines: what was fetched, what was kept already, what was skipped or failed, and why."""
    metadata = f" and {plan.fetched_metadata} .metadata file(s)" if plan.fetched_metadata else ""
    lines = [
        f"Fetched {plan.fetched_files} file(s){metadata}, {_size(plan.fetched_bytes)}; "
        f"{plan.already_kept} already kept here."
    ]
    lines += [f"Skipped {name}: {why}" for name, why in plan.skipped.items()]
    lines += [f"Failed {name}: {why}" for name, why in plan.failed.items()]
    return lines


def _size(count: int) -> str:
    if count >= 1024**2:
        return f"{count / 1024**2:.1f} MB"
    return f"{count / 1024:.1f} KB" if count else "0 MB"
