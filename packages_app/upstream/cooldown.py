"""Cool-downs on upstream files: what a proxied page offers, by the age of each file.

Malicious releases published upstream are usually found and removed within days, so an
operator can hold back what is new there (docs/upstream.md):

- ``UPSTREAM_COOLDOWN`` (``3d``, ``12h``): files younger than that are hidden from
  everyone, except on the projects of ``UPSTREAM_COOLDOWN_EXEMPT_PROJECTS``;
- ``UPSTREAM_NOT_AFTER`` (a moment): files uploaded after it are hidden from everyone,
  exempt projects included: the emergency brake after a compromise upstream.

Fail-closed: a file whose page gives no PEP 700 ``upload-time`` (or one we cannot read)
is hidden whenever any cut-off applies, and so is a version with no file shown. The
cut-offs combine with the request's own view: ``SIMPLE_DEFAULT_COOLDOWN`` on ``/simple/``,
``/cooldown/<d>/`` and ``/snapshot/<t>/`` (whose page shows the files upstream lists today
that were uploaded by then, with today's yanks: upstream keeps no history we could read).

Which files pass depends only on how many of the page's sorted upload times fall at or
before the cut-off, so the rendered page is keyed by that count: it keeps its ETag while
the clock moves, and is built again only when a file comes of age.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion

from packages_app.simple import timetravel
from packages_app.upstream import pages
from packages_app.upstream.pages import UpstreamFile, UpstreamPage, version_of

T = TypeVar("T")


def cutoff(normalized: str, view: timetravel.View) -> datetime | None:
    """The latest upload time shown for ``normalized`` under ``view`` (the request's, after its
    exemptions); None: every file is shown."""
    moments = [view.as_of.moment] if view.as_of is not None else []
    duration = _cooldown_of(normalized)
    if duration is not None:
        cooled = timetravel.cooled(duration, timetravel.now()).as_of
        assert cooled is not None
        moments.append(cooled.moment)
    not_after = _not_after()
    if not_after is not None:
        moments.append(not_after)
    return min(moments, default=None)


def page_view(normalized: str, view: timetravel.View, page: UpstreamPage) -> timetravel.View:
    """How the page of ``normalized`` under ``view`` is filtered, keyed and cached."""
    moment = cutoff(normalized, view)
    if moment is None:
        return view
    shown = bisect.bisect_right(page.upload_times, moment.timestamp())
    policy = view.policy
    duration = _cooldown_of(normalized)
    if duration is not None:
        # The cut-off moves with the clock: a client keeps the page one step at most.
        step = timetravel.SHORT_STEP if duration < timetravel.SHORT_COOLDOWN else timetravel.LONG_STEP
        policy = policy.at_most(int(step.total_seconds()))
    return timetravel.View(timetravel.AsOf(moment, yanks_from_journal=False), f"shown:{shown}", policy, dated=False)


def offered(page: UpstreamPage, moment: datetime | None) -> UpstreamPage:
    """``page`` with only the files uploaded at or before ``moment`` (all, for None), and their versions."""
    if moment is None:
        return page
    files = [entry for entry in page.files if _uploaded_by(entry, moment)]
    versions = {version_of(entry.filename) for entry in files}
    shown = [version for version in page.versions if _canonical(version) in versions]
    return replace(page, files=files, versions=shown)


def hidden(normalized: str, entry: UpstreamFile) -> bool:
    """Whether the upstream cut-offs hide ``entry`` (its download is refused).

    Only ``UPSTREAM_COOLDOWN`` and ``UPSTREAM_NOT_AFTER``: a request's own view (a snapshot, a
    cool-down of its URL) chooses what its page lists, not which files exist, as for local files.
    """
    moment = cutoff(normalized, timetravel.live())
    if moment is None:
        return False
    return not _uploaded_by(entry, moment)


def _uploaded_by(entry: UpstreamFile, moment: datetime) -> bool:
    uploaded = pages.upload_timestamp(entry)
    return uploaded is not None and uploaded <= moment.timestamp()


def _canonical(version: str) -> str | None:
    try:
        return canonicalize_version(version)
    except InvalidVersion:
        return None


# ---------------------------------------------------------------- settings


def _cooldown() -> timedelta | None:
    return _configured("UPSTREAM_COOLDOWN", timetravel.parse_duration)


def _cooldown_of(normalized: str) -> timedelta | None:
    """``UPSTREAM_COOLDOWN``, unless ``normalized`` is exempt from it."""
    if normalized in timetravel.normalized_names(tuple(settings.UPSTREAM_COOLDOWN_EXEMPT_PROJECTS)):
        return None
    return _cooldown()


def _not_after() -> datetime | None:
    return _configured("UPSTREAM_NOT_AFTER", timetravel.parse_moment)


def _configured(name: str, parse: Callable[[str], T]) -> T | None:
    """The setting ``name`` read with ``parse`` (None when empty); malformed: ImproperlyConfigured."""
    text = getattr(settings, name)
    return _parsed(name, text, parse) if text else None


@functools.lru_cache(maxsize=8)
def _parsed(name: str, text: str, parse: Callable[[str], T]) -> T:
    try:
        return parse(text)
    except timetravel.BadTime as error:
        raise ImproperlyConfigured(f"{name}: {error}") from None


def enabled() -> bool:
    """Whether an upstream cut-off is set (then every download is checked against the page)."""
    return bool(settings.UPSTREAM_COOLDOWN or settings.UPSTREAM_NOT_AFTER)


def check_settings() -> None:
    """Refuse to start with a malformed cut-off, rather than fail its first request."""
    _cooldown()
    _not_after()
