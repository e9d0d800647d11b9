"""Time travel and cool-downs: the simple API as the index was at a moment.

Two URL prefixes put a time filter in front of the simple API (docs/time-travel.md):

- ``/snapshot/<time>/simple/``: the index as of ``<time>``. Files uploaded at
  or before it; releases that existed then (created by then, or holding a file
  uploaded by then, which import back-dates); each release's yank state as the
  journal had it then. Reproducible: the same URL resolves the same way later.
- ``/cooldown/<duration>/simple/``: files and releases at least ``<duration>``
  old. Yanks apply at once, as on ``/simple/``: a cool-down holds back *new*
  uploads, and holding back a yank would keep offering, for days, a release its
  maintainers withdrew. ``SIMPLE_DEFAULT_COOLDOWN`` puts one on ``/simple/``.

Quarantine is always today's (a project quarantined for malware stays hidden
in every view), and a deleted file stays deleted: its bytes are gone.

Everything about time lives here: parsing, the :class:`View` a request gets
(what to filter, how to key and cache the page) and the filters of
:class:`AsOf`, which the builders in ``builders.py`` apply to their queries.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from packages_app.models import File, JournalEntry, Project, Release
from packages_app.naming import canonical_version, normalize_name
from packages_app.pages.serve import CachePolicy
from packages_app.services import journal

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TIME_FORMS = (
    "an ISO 8601 time in UTC (2024-05-01T12:00:00Z, with up to 6 decimals of seconds, which are dropped; "
    "no offset means UTC; a date alone, 2024-05-01, means its midnight UTC) "
    "or a Unix timestamp in seconds (1714564800 or 1714564800.25)"
)
TIME_RANGE = "in UTC it must fall between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z"
DURATION_FORMS = (
    "a whole number and a unit: w (weeks), d (days), h (hours), m (minutes) or s (seconds), "
    "e.g. 3d, 12h, 30m, 45s; units may be combined, largest first: 1d12h"
)
# A cool-down's cut-off moves with the clock; rounding it down to a step lets every request within the
# step share one stored page. Short cool-downs get short steps, or a 5-second one would mean a minute.
SHORT_STEP = timedelta(seconds=1)
LONG_STEP = timedelta(minutes=1)
SHORT_COOLDOWN = timedelta(hours=1)

_UNIX_TIME = re.compile(r"(\d{1,12})(?:\.(\d{1,6}))?\Z")
_DURATION = re.compile(r"(?:(\d{1,9})w)?(?:(\d{1,9})d)?(?:(\d{1,9})h)?(?:(\d{1,9})m)?(?:(\d{1,9})s)?\Z")
_UNITS = ("weeks", "days", "hours", "minutes", "seconds")
# Journal actions that set a release's yank state; a removed release starts over if made again.
YANK, UNYANK, REMOVE_RELEASE = journal.RELEASE_YANKED, journal.RELEASE_UNYANKED, journal.RELEASE_DELETED


class BadTime(ValueError):
    """A time or duration in a URL we cannot read; the message says what we expect (a 400)."""


def now() -> datetime:
    """The clock every view reads (tests set it to move time on)."""
    return timezone.now()


# ---------------------------------------------------------------- parsing


def parse_moment(text: str) -> datetime:
    """A snapshot's time: ISO 8601 (UTC unless it says otherwise) or Unix seconds, as an aware UTC datetime.

    A number is always Unix seconds, so write dates with dashes (``20240501`` is 1970-08-23).
    """
    unix = _UNIX_TIME.match(text)
    try:
        if unix:
            seconds, fraction = unix.groups()
            return EPOCH + timedelta(seconds=int(seconds), microseconds=int((fraction or "0").ljust(6, "0")))
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadTime(f"Cannot read the time {text!r}: use {TIME_FORMS}.") from None
    except OverflowError:
        raise BadTime(f"The time {text!r} is out of range: {TIME_RANGE}.") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        # 0001-01-01T00:00:00+05:00 is a valid datetime whose UTC form is not.
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadTime(f"The time {text!r} is out of range: {TIME_RANGE}.") from None


def parse_duration(text: str) -> timedelta:
    """A cool-down: ``3d``, ``12h``, ``30m``, ``45s``, ``1w``, or several largest first (``1d12h``)."""
    match = _DURATION.match(text)
    if not text or match is None:
        raise BadTime(f"Cannot read the duration {text!r}: use {DURATION_FORMS}.")
    try:
        return timedelta(**{unit: int(number) for unit, number in zip(_UNITS, match.groups(), strict=True) if number})
    except OverflowError:
        raise BadTime(f"The duration {text!r} is too long: use {DURATION_FORMS}.") from None


def moment_text(moment: datetime) -> str:
    """A moment as ISO 8601 UTC with a ``Z`` (microseconds only when there are any)."""
    return moment.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"


# ---------------------------------------------------------------- the index as of a moment


@dataclass(frozen=True)
class AsOf:
    """The index at ``moment``: what the builders in ``builders.py`` filter by.

    Each filter is one condition inside a query the builder makes anyway, so a
    page costs the same number of queries whatever the moment; only the journal's
    yank history, for snapshots, adds one.
    """

    moment: datetime
    # Snapshots take yank state from the journal; cool-downs take today's (see the module docstring).
    yanks_from_journal: bool

    def projects(self) -> Q:
        """Projects with something to show: made by then, or holding a release or file from then.

        (Imports keep the original times of releases and files, but the project row is new.)
        """
        return (
            Q(created__lte=self.moment)
            | Exists(Release.objects.filter(project=OuterRef("pk"), created__lte=self.moment))
            | Exists(File.objects.filter(release__project=OuterRef("pk"), upload_time__lte=self.moment))
        )

    def releases(self) -> Q:
        """Versions that existed then, with or without files (PEP 700 ``versions``)."""
        # Q | Exists is a Q at run time; the stubs' Q.__or__ takes only a Q.
        return Q(created__lte=self.moment) | Exists(  # type: ignore[return-value]
            File.objects.filter(release=OuterRef("pk"), upload_time__lte=self.moment)
        )

    def files(self) -> Q:
        return Q(upload_time__lte=self.moment)

    def yank_history(self, project: Project) -> YankHistory:
        """The journal's yanks and unyanks of ``project``'s releases, read in one query."""
        # The date bound leaves out a deleted project of the same name.
        rows = (
            JournalEntry.objects.of_project(project.normalized_name)
            .filter(submitted_date__gte=project.created, kind__in=[YANK, UNYANK, REMOVE_RELEASE])
            .order_by("id")
            .values_list("version", "kind", "submitted_date")
        )
        history = YankHistory()
        for version, kind, submitted in rows:
            history.add(canonical_version(version), kind, after=submitted > self.moment)
        return history


@dataclass
class YankHistory:
    """Per release (canonical version): yanked at the moment, and whether anything changed since."""

    yanked_then: dict[str, bool] = field(default_factory=dict)
    changed_since: set[str] = field(default_factory=set)
    in_journal: set[str] = field(default_factory=set)  # ever yanked or unyanked through the services

    def add(self, version: str, action: str, *, after: bool) -> None:
        if action != REMOVE_RELEASE:
            self.in_journal.add(version)
        if after:
            self.changed_since.add(version)
        else:
            self.yanked_then[version] = action == YANK

    def state(self, version: str, yanked_now: bool, reason_now: str) -> tuple[bool, str]:
        """``(yanked, reason)`` at the moment, for a release whose row says ``yanked_now, reason_now``.

        The journal records yanks, not their reasons: a reason is shown only when
        nothing has changed since (then it is today's). A release the journal never
        saw yanked (rows written without the services) keeps what its row says.
        """
        if version not in self.in_journal:
            return yanked_now, reason_now
        if not self.yanked_then.get(version, False):
            return False, ""
        unchanged = yanked_now and version not in self.changed_since
        return True, reason_now if unchanged else ""


# ---------------------------------------------------------------- what a request sees


@dataclass(frozen=True)
class View:
    """How one request sees the index, and how its page is keyed and cached.

    ``tag`` goes into the page key (and so the ETag): two requests with the same
    tag, serial and media type get the same bytes. ``dated`` says whether the
    time of the last change is a true ``Last-Modified``; it is not when the
    cut-off moves with the clock (a file can appear with no change to the index),
    so those pages are revalidated by ETag only.
    """

    as_of: AsOf | None
    tag: str
    # TIME_TRAVEL when the client picks the moment (/snapshot/, /cooldown/): any of countless URLs
    # could each fill the shared cache with a page, so theirs are kept in a small store per process only.
    policy: CachePolicy
    dated: bool = True
    exempt: frozenset[str] = frozenset()

    @property
    def max_age(self) -> int:
        return self.policy.max_age

    @property
    def shared(self) -> bool:
        return self.policy.shared_store

    def for_project(self, normalized_name: str) -> View:
        """Exempt projects are served as they are, under the live page's key."""
        return live() if normalized_name in self.exempt else self


def live() -> View:
    return View(None, "", CachePolicy.SIMPLE)


def snapshot(text: str) -> View:
    """``/snapshot/<text>/simple/``, as of the start of the second ``<text>`` falls in.

    Snapshots are read to the second: the fraction is dropped (rounded down, so never showing
    more than asked), and every spelling of times within one second shares one stored page,
    rather than each of a million microseconds building its own.

    A time still to come is now: served as a cool-down of zero. (A page for a future moment
    could still change without the index changing, as files are uploaded before that
    moment; keyed and cached as a snapshot it would be wrong by then.)
    """
    moment = parse_moment(text).replace(microsecond=0)
    current = now()
    if moment > current:
        return cooled(timedelta(0), current, shared=False)
    seconds = (moment - EPOCH) // timedelta(seconds=1)
    return View(AsOf(moment, yanks_from_journal=True), f"at:{seconds}", CachePolicy.TIME_TRAVEL)


def cooldown(text: str) -> View:
    """``/cooldown/<text>/simple/``: exempt projects (``COOLDOWN_EXEMPT_PROJECTS``) are not held back."""
    return cooled(parse_duration(text), now(), exempt_projects(), shared=False)


def cooled(
    duration: timedelta, current: datetime, exempt: frozenset[str] = frozenset(), *, shared: bool = True
) -> View:
    """Nothing younger than ``duration``: the cut-off rounded *down* to its step, so never less strict.

    Clients may keep such a page for one step at most (and never longer than ``SIMPLE_MAX_AGE``).
    """
    step = SHORT_STEP if duration < SHORT_COOLDOWN else LONG_STEP
    since_epoch = max(current - EPOCH - duration, timedelta(0))
    cutoff = EPOCH + (since_epoch // step) * step
    seconds = (cutoff - EPOCH) // timedelta(seconds=1)
    policy = (CachePolicy.SIMPLE if shared else CachePolicy.TIME_TRAVEL).at_most(int(step.total_seconds()))
    as_of = AsOf(cutoff, yanks_from_journal=False)
    return View(as_of, f"cool:{seconds}", policy, dated=False, exempt=exempt)


def default_view() -> View:
    """``/simple/``: live, or under the operator's ``SIMPLE_DEFAULT_COOLDOWN``."""
    if not settings.SIMPLE_DEFAULT_COOLDOWN:
        return live()
    return cooled(_configured_duration(settings.SIMPLE_DEFAULT_COOLDOWN), now(), exempt_projects())


def view_for(horizon: str | None, when: str | None) -> View:
    """The view of a request to the simple API under ``horizon`` (the URL's prefix)."""
    if when is None:  # a prefix without a <when>: /simple/ itself
        return default_view()
    if horizon == "snapshot":
        return snapshot(when)
    if horizon == "cooldown":
        return cooldown(when)
    return default_view()


def exempt_projects() -> frozenset[str]:
    return normalized_names(tuple(settings.COOLDOWN_EXEMPT_PROJECTS))


@functools.lru_cache(maxsize=4)
def normalized_names(names: tuple[str, ...]) -> frozenset[str]:
    """A setting's list of project names, PEP 503 normalised (cached: read on every request)."""
    return frozenset(normalize_name(name) for name in names)


@functools.lru_cache(maxsize=4)
def _configured_duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except BadTime as error:
        raise ImproperlyConfigured(f"SIMPLE_DEFAULT_COOLDOWN: {error}") from None


def check_settings() -> None:
    """Refuse to start with a malformed default cool-down, rather than fail its first request."""
    if settings.SIMPLE_DEFAULT_COOLDOWN:
        _configured_duration(settings.SIMPLE_DEFAULT_COOLDOWN)
