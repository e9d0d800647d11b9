"""The admin's words and figures: "API tokens", "1 release", no "Recent actions" box, and a
project list with release count, latest version, size and last upload in bounded queries."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from packages_app import versions
from packages_app.models import ApiToken, File, Project, Release
from packages_app.services import projects, releases
from tests.factories import FileFactory

PROJECTS = "admin:packages_app_project_changelist"


def test_tokens_are_api_tokens():
    assert ApiToken._meta.verbose_name == "API token"
    assert ApiToken._meta.verbose_name_plural == "API tokens"


def test_dashboard_names_api_tokens_and_has_no_recent_actions_box(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "API tokens" in page
    assert "Api tokens" not in page
    assert "Recent actions" not in page
    assert "recent-actions-module" not in page


def test_one_release_two_releases(admin_client, db):
    one = projects.create_project("one")
    releases.create_release(one, "1.0")
    two = projects.create_project("two")
    releases.create_release(two, "1.0")
    releases.create_release(two, "2.0")
    page = admin_client.get(reverse("admin:packages_app_project_change", args=[one.pk])).content.decode()
    assert ">1 release<" in page
    assert "</a> — 0 files</div>" in page
    listing = admin_client.get(reverse(PROJECTS)).content.decode()
    assert "1 release<" in listing
    assert "2 releases<" in listing


def test_project_list_shows_figures(admin_client, db):
    project = projects.create_project("figures")
    releases.create_release(project, "1.0")
    newest = releases.create_release(project, "1.10")
    releases.create_release(project, "1.9")
    FileFactory(release=newest, size=2 * 1024 * 1024, upload_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    FileFactory(
        release=newest, filename="figures-1.10.tar.gz", size=1024 * 1024, upload_time=datetime(2025, 1, 1, tzinfo=UTC)
    )
    projects.create_project("empty")
    response = admin_client.get(reverse(PROJECTS))
    rows = {project.name: project for project in response.context["cl"].result_list}
    assert rows["figures"].releases_total == 3
    assert rows["figures"].newest_version == "1.10"
    assert rows["figures"].total_size == 3 * 1024 * 1024
    page = response.content.decode()
    assert "3 releases" in page
    assert "3.0\xa0MB" in page
    assert "2026-01-02 03:04:05 UTC" in page
    assert rows["empty"].releases_total == 0
    assert "0\xa0bytes" in page


def test_project_list_can_be_sorted_by_size(admin_client, db):
    small, big = projects.create_project("small"), projects.create_project("big")
    FileFactory(release=releases.create_release(small, "1.0"), size=10)
    FileFactory(release=releases.create_release(big, "1.0"), size=10_000)
    index = ProjectAdminColumns.index("stored_size")
    response = admin_client.get(reverse(PROJECTS), {"o": f"-{index}"})
    assert [p.name for p in response.context["cl"].result_list][:2] == ["big", "small"]


ProjectAdminColumns = ["action_checkbox", "name", "status", "visibility", "release_count", "latest_version",
                       "stored_size", "last_upload", "created_at"]  # fmt: skip


@pytest.mark.parametrize("order", ["", "-4", "-6", "-7"])
def test_project_list_of_a_thousand_projects_is_bounded(admin_client, db, django_assert_max_num_queries, order):
    Project.objects.bulk_create(Project(name=f"p{n}", normalized_name=f"p{n}") for n in range(1000))
    some = list(Project.objects.order_by("pk")[:300])
    Release.objects.bulk_create(
        Release(project=project, version=version, **versions.release_columns(version))
        for project in some
        for version in ("1.0", "2.0")
    )
    for release in Release.objects.filter(version="2.0")[:100]:
        FileFactory(release=release)
    assert File.objects.count() == 100
    with django_assert_max_num_queries(10):
        response = admin_client.get(reverse(PROJECTS), {"o": order} if order else {})
    assert response.status_code == 200
