"""Time travel: parsing times and durations, the views a request gets, the index as of a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import timezone

from packages_app.models import File, JournalEntry, Project, Release
from packages_app.services import projects, releases
from packages_app.simple import timetravel
from packages_app.simple.timetravel import AsOf, BadTime, parse_duration, parse_moment
from tests.factories import FileFactory, ProjectFactory, ReleaseFactory

MAY_FIRST_NOON = datetime(2024, 5, 1, 12, tzinfo=UTC)


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2024-05-01T12:00:00Z", MAY_FIRST_NOON),
        ("2024-05-01T12:00:00+00:00", MAY_FIRST_NOON),
        ("2024-05-01T14:00:00+02:00", MAY_FIRST_NOON),  # an explicit offset is honoured
        ("2024-05-01T12:00:00", MAY_FIRST_NOON),  # no offset: UTC, never the server's zone
        ("2024-05-01T12:00", MAY_FIRST_NOON),
        ("2024-05-01T12:00:00.5Z", MAY_FIRST_NOON.replace(microsecond=500000)),
        ("2024-05-01T12:00:00.123456Z", MAY_FIRST_NOON.replace(microsecond=123456)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),  # a date: its midnight, UTC
        ("1714564800", MAY_FIRST_NOON),
        ("1714564800.25", MAY_FIRST_NOON.replace(microsecond=250000)),
        ("1714564800.000001", MAY_FIRST_NOON.replace(microsecond=1)),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
        ("20240501", datetime(1970, 8, 23, 6, 21, 41, tzinfo=UTC)),  # a bare number is always Unix seconds
    ],
)
def test_parse_moment(text, moment):
    parsed = parse_moment(text)
    assert parsed == moment
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "999999999999",  # past the year 9999
        "0001-01-01T00:00:00+05:00",  # a valid datetime, before the year 1 in UTC
        "9999-12-31T23:59:59-05:00",  # after the year 9999 in UTC
    ],
)
def test_parse_moment_refuses_times_out_of_range(text):
    with pytest.raises(BadTime) as error:
        parse_moment(text)
    assert str(error.value) == (
        f"The time {text!r} is out of range: in UTC it must fall between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z."
    )


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("0001-01-01T05:00:00+05:00", datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_parse_moment_reads_the_limits(text, moment):
    assert parse_moment(text) == moment


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "now",
        "2024-13-01",
        "2024-05-01T25:00:00Z",
        "2024-05-01T12:00:00 UTC",
        "1714564800.1234567",  # more than microseconds
        "-1",
        "1e9",
        "1714564800,5",
    ],
)
def test_parse_moment_refuses_with_the_forms_it_takes(text):
    with pytest.raises(BadTime) as error:
        parse_moment(text)
    message = str(error.value)
    assert repr(text) in message
    assert "ISO 8601" in message
    assert "2024-05-01T12:00:00Z" in message
    assert "Unix timestamp" in message


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("3d", timedelta(days=3)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("1w", timedelta(weeks=1)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        ("0s", timedelta(0)),
        ("90m", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text, duration):
    assert parse_duration(text) == duration


@pytest.mark.parametrize(
    "text", ["", "3", "d", "3y", "3 d", "-3d", "3D", "1.5d", "P3D", "3days", "12h1d", "1d1d", "999999999w"]
)
def test_parse_duration_refuses_with_the_forms_it_takes(text):
    with pytest.raises(BadTime) as error:
        parse_duration(text)
    message = str(error.value)
    assert repr(text) in message
    assert "d (days)" in message
    assert "3d, 12h" in message


# ---------------------------------------------------------------- views


@pytest.fixture
def clock(monkeypatch):
    """A test clock: the time every view reads, set by the test."""

    class Clock:
        moment = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)

    monkeypatch.setattr(timetravel, "now", lambda: Clock.moment)
    return Clock


def test_a_snapshot_is_keyed_by_its_moment_whatever_its_spelling(clock):
    iso = timetravel.snapshot("2024-05-01T12:00:00Z")
    unix = timetravel.snapshot("1714564800")
    assert iso == unix
    assert iso.as_of == AsOf(MAY_FIRST_NOON, yanks_from_journal=True)
    assert iso.tag == "at:1714564800"
    assert iso.dated
    assert not iso.shared  # the client picks the moment: kept out of the shared cache


@pytest.mark.parametrize("text", ["1714564800.000001", "1714564800.999999", "2024-05-01T12:00:00.5Z"])
def test_a_snapshot_is_read_to_the_second(clock, text):
    """The fraction is dropped (never showing more than asked), so one second is one stored page."""
    assert timetravel.snapshot(text) == timetravel.snapshot("2024-05-01T12:00:00Z")


def test_only_the_default_view_shares_its_pages(clock, settings):
    assert timetravel.cooldown("3d").shared is False
    assert timetravel.snapshot("2999-01-01").shared is False
    assert timetravel.live().shared is True
    settings.SIMPLE_DEFAULT_COOLDOWN = "3d"
    # The operator's own cool-down on /simple/: one page per step, the same for every client.
    assert timetravel.default_view().shared is True


@override_settings(SIMPLE_MAX_AGE=600)
def test_a_snapshot_is_cached_like_simple(clock):
    assert timetravel.snapshot("2024-05-01").max_age == 600


@override_settings(SIMPLE_MAX_AGE=600)
def test_a_future_snapshot_is_now_with_a_short_life(clock):
    view = timetravel.snapshot("2999-01-01T00:00:00Z")
    assert view.as_of.moment == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)  # now, down to the second
    assert view.tag.startswith("cool:")
    assert (view.max_age, view.dated) == (1, False)
    assert view == timetravel.cooled(timedelta(0), clock.moment, shared=False)


@pytest.mark.parametrize(
    ("duration", "cutoff", "max_age"),
    [
        # Short cool-downs step by the second, long ones by the minute; always rounded down.
        (timedelta(seconds=5), datetime(2026, 3, 4, 5, 6, 2, tzinfo=UTC), 1),
        (timedelta(minutes=59), datetime(2026, 3, 4, 4, 7, 7, tzinfo=UTC), 1),
        (timedelta(hours=1), datetime(2026, 3, 4, 4, 6, tzinfo=UTC), 60),
        (timedelta(days=3), datetime(2026, 3, 1, 5, 6, tzinfo=UTC), 60),
        (timedelta(weeks=100000), datetime(1970, 1, 1, tzinfo=UTC), 60),  # before anything: nothing
    ],
)
@override_settings(SIMPLE_MAX_AGE=600)
def test_a_cooldown_cuts_off_at_a_step_never_later_than_asked(clock, duration, cutoff, max_age):
    view = timetravel.cooled(duration, clock.moment)
    assert view.as_of == AsOf(cutoff, yanks_from_journal=False)
    assert view.as_of.moment <= max(clock.moment - duration, timetravel.EPOCH)
    assert (view.max_age, view.dated) == (max_age, False)


def test_a_cooldown_page_is_shared_within_a_step_and_not_across(clock):
    first = timetravel.cooldown("3d")
    clock.moment += timedelta(seconds=20)
    assert timetravel.cooldown("3d").tag == first.tag
    clock.moment += timedelta(seconds=60)
    assert timetravel.cooldown("3d").tag != first.tag


def test_cooldown_max_age_never_exceeds_simple_max_age(clock):
    with override_settings(SIMPLE_MAX_AGE=0):
        assert timetravel.cooldown("3d").max_age == 0
    with override_settings(SIMPLE_MAX_AGE=30):
        assert timetravel.cooldown("3d").max_age == 30


@override_settings(SIMPLE_DEFAULT_COOLDOWN="", COOLDOWN_EXEMPT_PROJECTS=["Our_Lib"])
def test_simple_is_live_without_a_default_cooldown(clock):
    assert timetravel.view_for(None, None) == timetravel.live()
    assert timetravel.live().as_of is None
    assert timetravel.live().tag == ""


@override_settings(SIMPLE_DEFAULT_COOLDOWN="3d", COOLDOWN_EXEMPT_PROJECTS=["Our_Lib", "tools.x"])
def test_the_default_cooldown_and_its_exempt_projects(clock):
    view = timetravel.view_for(None, None)
    assert view == timetravel.cooled(timedelta(days=3), clock.moment, frozenset({"our-lib", "tools-x"}))
    assert view.for_project("our-lib") == timetravel.live()
    assert view.for_project("other") is view
    # Explicit cool-downs spare the same projects; snapshots spare none (they must reproduce).
    assert timetravel.view_for("cooldown", "1h").for_project("tools-x") == timetravel.live()
    assert timetravel.view_for("snapshot", "2024-05-01").for_project("our-lib").as_of is not None


@override_settings(SIMPLE_DEFAULT_COOLDOWN="3 days")
def test_a_malformed_default_cooldown_is_a_configuration_error(clock):
    with pytest.raises(ImproperlyConfigured, match="SIMPLE_DEFAULT_COOLDOWN: Cannot read the duration '3 days'"):
        timetravel.view_for(None, None)


def test_view_for_parses_the_url_part(clock):
    assert timetravel.view_for("snapshot", "1714564800").as_of.moment == MAY_FIRST_NOON
    with pytest.raises(BadTime):
        timetravel.view_for("snapshot", "3d")
    with pytest.raises(BadTime):
        timetravel.view_for("cooldown", "2024-05-01")


def test_moment_text():
    assert timetravel.moment_text(MAY_FIRST_NOON) == "2024-05-01T12:00:00Z"
    assert timetravel.moment_text(MAY_FIRST_NOON.replace(microsecond=5)) == "2024-05-01T12:00:00.000005Z"


# ---------------------------------------------------------------- the index as of a moment


@pytest.fixture
def between(time_machine):
    """Gives a moment strictly after everything written so far and before anything written next.

    The clock is moved past it (time-machine), not slept past, and ticks on from there."""

    def move() -> datetime:
        moment = timezone.now() + timedelta(milliseconds=2)
        time_machine.move_to(moment + timedelta(milliseconds=2), tick=True)
        return moment

    return move


def as_of(moment: datetime) -> AsOf:
    return AsOf(moment, yanks_from_journal=True)


@pytest.mark.django_db
def test_files_releases_and_projects_as_of_a_moment():
    old, new = datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)
    early = ProjectFactory(name="early", created=old)
    imported = ProjectFactory(name="imported")  # made today, holding a file from 2021 (import keeps times)
    ProjectFactory(name="late", created=new)
    early_files = [
        FileFactory(release=ReleaseFactory(project=early, version="1.0", created=old), upload_time=old),
        FileFactory(release=ReleaseFactory(project=early, version="2.0", created=new), upload_time=new),
    ]
    ReleaseFactory(project=early, version="1.5", created=old)  # no files, registered in 2021
    # A release whose row is newer than its oldest file (imports keep the file's time): there in 2021.
    FileFactory(release=ReleaseFactory(project=imported, version="0.1"), upload_time=old)

    mid = AsOf(datetime(2021, 6, 1, tzinfo=UTC), yanks_from_journal=True)
    assert set(Project.objects.filter(mid.projects()).values_list("name", flat=True)) == {"early", "imported"}
    assert set(Release.objects.filter(mid.releases()).values_list("version", flat=True)) == {"1.0", "1.5", "0.1"}
    assert set(File.objects.filter(mid.files()).values_list("pk", flat=True)) == {
        early_files[0].pk,
        File.objects.get(release__project=imported).pk,
    }
    at_upload = AsOf(new, yanks_from_journal=True)  # "at or before": the moment itself counts
    assert File.objects.filter(at_upload.files(), release__project=early).count() == 2
    before_all = AsOf(datetime(2020, 1, 1, tzinfo=UTC), yanks_from_journal=True)
    assert not Project.objects.filter(before_all.projects()).exists()


@pytest.mark.django_db
def test_yank_history_follows_the_journal(between):
    project = projects.create_project("Demo_Pkg")
    one, two, three = (releases.create_release(project, version) for version in ("1.0", "2.0", "3.0"))
    before_any = between()
    releases.yank_release(one, "first reason")
    releases.yank_release(two, "kept reason")
    releases.yank_release(three, "gone reason")
    after_yanks = between()
    releases.unyank_release(one)
    releases.unyank_release(three)
    releases.yank_release(three, "other reason")
    after_changes = between()

    def states(moment):
        history = as_of(moment).yank_history(Project.objects.get(pk=project.pk))
        rows = Release.objects.filter(project=project).order_by("sort_key")
        return {r.version: history.state(r.canonical_version, r.yanked, r.yanked_reason) for r in rows}

    assert states(before_any) == {"1.0": (False, ""), "2.0": (False, ""), "3.0": (False, "")}
    # 1.0 was unyanked since and 3.0 re-yanked: the journal keeps no reasons, so theirs are unknown.
    assert states(after_yanks) == {"1.0": (True, ""), "2.0": (True, "kept reason"), "3.0": (True, "")}
    assert states(after_changes) == {"1.0": (False, ""), "2.0": (True, "kept reason"), "3.0": (True, "other reason")}


@pytest.mark.django_db
def test_yank_history_reads_one_query_however_many_yanks(django_assert_num_queries):
    project = projects.create_project("busy")
    for index in range(20):
        releases.yank_release(releases.create_release(project, f"1.{index}"))
    with django_assert_num_queries(1):
        history = as_of(timezone.now()).yank_history(project)
    assert len(history.in_journal) == 20


@pytest.mark.django_db
def test_yank_history_follows_a_project_under_every_spelling_of_its_name(between):
    project = projects.create_project("Demo_Pkg")
    release = releases.create_release(project, "1.0")
    releases.yank_release(release)
    Project.objects.filter(pk=project.pk).update(name="demo.PKG")  # an upload respelled it
    project.refresh_from_db()
    releases.unyank_release(release)
    moment = between()
    releases.yank_release(release)
    history = as_of(moment).yank_history(project)
    assert {entry.name for entry in JournalEntry.objects.filter(action__contains="yank")} == {"Demo_Pkg", "demo.PKG"}
    assert history.yanked_then == {"1": False}
    assert history.changed_since == {"1"}


@pytest.mark.django_db
def test_yank_history_ignores_projects_whose_names_only_look_alike():
    mine = projects.create_project("a-b")
    lookalike = projects.create_project("ab")  # the same letters once separators are squashed
    releases.yank_release(releases.create_release(lookalike, "1.0"))
    releases.create_release(mine, "1.0")
    assert as_of(timezone.now()).yank_history(mine).in_journal == set()


@pytest.mark.django_db
def test_a_deleted_project_leaves_no_yanks_to_its_successor(between):
    first = projects.create_project("reborn")
    releases.yank_release(releases.create_release(first, "1.0"))
    projects.delete_project(first)
    between()
    second = projects.create_project("reborn")
    releases.create_release(second, "1.0")
    assert as_of(timezone.now()).yank_history(second).in_journal == set()


@pytest.mark.django_db
def test_a_release_made_again_starts_unyanked():
    project = projects.create_project("remade")
    releases.yank_release(releases.create_release(project, "1.0"), "old")
    releases.delete_release(Release.objects.get(project=project))
    remade = releases.create_release(project, "1.0.0")  # the same release, canonically
    history = as_of(timezone.now()).yank_history(project)
    assert history.state(remade.canonical_version, remade.yanked, remade.yanked_reason) == (False, "")


@pytest.mark.django_db
def test_a_yank_the_journal_never_saw_is_kept():
    # Rows written without the services (older data) have no yank history to go by.
    release = ReleaseFactory(version="1.0", yanked=True, yanked_reason="from before the journal")
    history = as_of(timezone.now() - timedelta(days=1)).yank_history(release.project)
    assert history.state(release.canonical_version, True, "from before the journal") == (
        True,
        "from before the journal",
    )
