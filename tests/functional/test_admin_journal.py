"""The journal's admin list as an operator reads it: filters by action, actor, trusted
publisher, date and project; yank reasons; dates with their time zone; bounded queries."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from packages_app.models import JournalEntry
from packages_app.services import projects, releases
from tests.factories import UserFactory

JOURNAL = "admin:packages_app_journalentry_changelist"


@pytest.fixture
def history(db, admin_user):
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    pkg = projects.create_project("Some_Pkg", user=alice)
    other = projects.create_project("other", user=bob)
    old = releases.create_release(pkg, "1.0", user=alice)
    releases.create_release(other, "2.0", user=bob)
    releases.yank_release(old, "broken wheel tags", user=alice)
    JournalEntry.objects.create(
        name="other", normalized_name="other", version="2.0", action="add py3 file other-2.0-py3-none-any.whl",
        kind="file-added", filename="other-2.0-py3-none-any.whl", publisher="GitHub acme/other ci.yml",
        submitted_date=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
    )  # fmt: skip
    return {"alice": alice, "bob": bob}


def _rows(response) -> list[JournalEntry]:
    return list(response.context["cl"].result_list)


def test_filter_by_action_kind(admin_client, history):
    response = admin_client.get(reverse(JOURNAL), {"kind": "release-yanked"})
    assert [(e.name, e.version) for e in _rows(response)] == [("Some_Pkg", "1.0")]
    # Every kind is offered, with no query for the list.
    assert "?kind=file-added" in response.content.decode()


def test_yank_reason_is_shown(admin_client, history):
    response = admin_client.get(reverse(JOURNAL), {"kind": "release-yanked"})
    assert "broken wheel tags" in response.content.decode()


def test_filter_by_user(admin_client, history):
    response = admin_client.get(reverse(JOURNAL), {"submitted_by__id__exact": history["bob"].pk})
    rows = _rows(response)
    assert rows
    assert {e.submitted_by_id for e in rows} == {history["bob"].pk}


def test_filter_by_trusted_publisher(admin_client, history):
    response = admin_client.get(reverse(JOURNAL), {"publisher": "GitHub acme/other ci.yml"})
    rows = _rows(response)
    assert [e.kind for e in rows] == ["file-added"]
    assert "trusted publisher GitHub acme/other ci.yml" in response.content.decode()
    users_only = _rows(admin_client.get(reverse(JOURNAL), {"publisher": "-"}))
    assert users_only
    assert all(not e.publisher for e in users_only)


def test_filter_by_date(admin_client, history):
    march = {"submitted_date__gte": "2025-03-01 00:00:00+00:00", "submitted_date__lt": "2025-04-01 00:00:00+00:00"}
    response = admin_client.get(reverse(JOURNAL), march)
    assert [e.kind for e in _rows(response)] == ["file-added"]
    assert "Past 7 days" in response.content.decode()


def test_dates_show_one_format_with_the_time_zone(admin_client, history):
    response = admin_client.get(reverse(JOURNAL), {"publisher": "GitHub acme/other ci.yml"})
    assert "2025-03-04 05:06:07 UTC" in response.content.decode()


@pytest.mark.parametrize("query", ["some-pkg", "SOME.PKG", "Some_Pkg"])
def test_search_a_project_in_any_spelling(admin_client, history, query):
    rows = _rows(admin_client.get(reverse(JOURNAL), {"q": query}))
    assert rows
    assert {e.normalized_name for e in rows} == {"some-pkg"}


def test_link_to_one_projects_journal(admin_client, history):
    rows = _rows(admin_client.get(reverse(JOURNAL), {"normalized_name": "other"}))
    assert rows
    assert {e.normalized_name for e in rows} == {"other"}


def test_journal_list_queries_do_not_grow_with_entries(admin_client, history, django_assert_max_num_queries):
    pkg = projects.create_project("many")
    for number in range(60):
        release = releases.create_release(pkg, f"1.{number}", user=history["alice"])
        releases.yank_release(release, f"reason {number}", user=history["bob"])
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse(JOURNAL), {"kind": "release-yanked"})
    assert response.status_code == 200
    assert "reason 59" in response.content.decode()


def test_token_columns_stay_hidden_from_staff(client, history):
    staff = UserFactory(username="staff", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_journalentry"))
    client.force_login(staff)
    entry = JournalEntry.objects.filter(kind="file-added").get()
    page = client.get(reverse("admin:packages_app_journalentry_change", args=[entry.pk])).content.decode()
    assert "token_key_id" not in page


def test_superusers_see_and_search_the_token(admin_client, history, client):
    JournalEntry.objects.filter(kind="release-yanked").update(token_key_id="0123456789abcdef", token_name="laptop")
    response = admin_client.get(reverse(JOURNAL), {"q": "0123456789abcdef"})
    assert [e.kind for e in _rows(response)] == ["release-yanked"]
    assert "laptop (0123456789abcdef)" in response.content.decode()

    staff = UserFactory(username="viewer", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_journalentry"))
    client.force_login(staff)
    page = client.get(reverse(JOURNAL)).content.decode()
    assert "0123456789abcdef" not in page
    assert "laptop" not in page
    assert _rows(client.get(reverse(JOURNAL), {"q": "0123456789abcdef"})) == []


def test_filters_scan_no_journal_for_their_choices(admin_client, history):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(reverse(JOURNAL)).content.decode()
    distinct = [q["sql"] for q in queries if "DISTINCT" in q["sql"] and "journalentry" in q["sql"]]
    assert distinct == []
    assert "?submitted_by__id__exact=" in page  # users offered from the users table
