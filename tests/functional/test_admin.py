"""Admin pages over HTTP: bounded queries on a big project, and writes that go
through the services (so they are journaled)."""

import html
import json
import re

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import reverse

from packages_app import versions
from packages_app.models import ApiToken, File, JournalEntry, Project, Release, Role
from packages_app.services import projects, releases, roles
from tests.factories import FileFactory, UserFactory

BIG = 5000
# Session, user, and the page's own queries; the point is that it does not grow with BIG.
MAX_QUERIES = 15


@pytest.fixture
def big_project(db):
    project = projects.create_project("big-project")
    versions_list = [f"{major}.{minor}.{patch}" for major in range(5) for minor in range(100) for patch in range(10)]
    Release.objects.bulk_create(
        Release(
            project=project,
            version=v,
            **versions.release_columns(v),
            summary="bulk",
        )
        for v in versions_list[:BIG]
    )
    newest = project.releases.newest_first().first()
    FileFactory(release=newest)
    FileFactory(release=newest, filename=f"big_project-{newest.version}.tar.gz", packagetype="sdist")
    return project


@pytest.mark.parametrize(
    "page",
    [
        "project_change",
        "project_changelist",
        "release_changelist",
        "release_changelist_of_project",
        "release_change",
        "file_changelist",
        "file_change",
        "journal_changelist",
        "release_add",
    ],
)
def test_admin_pages_have_bounded_queries_on_a_big_project(
    admin_client, big_project, page, django_assert_max_num_queries
):
    release = big_project.releases.order_by("-sort_key").first()
    file = File.objects.first()
    urls = {
        "project_change": reverse("admin:packages_app_project_change", args=[big_project.pk]),
        "project_changelist": reverse("admin:packages_app_project_changelist"),
        "release_changelist": reverse("admin:packages_app_release_changelist"),
        "release_changelist_of_project": reverse("admin:packages_app_release_changelist")
        + f"?project__id__exact={big_project.pk}",
        "release_change": reverse("admin:packages_app_release_change", args=[release.pk]),
        "file_changelist": reverse("admin:packages_app_file_changelist"),
        "file_change": reverse("admin:packages_app_file_change", args=[file.pk]),
        "journal_changelist": reverse("admin:packages_app_journalentry_changelist"),
        "release_add": reverse("admin:packages_app_release_add"),
    }
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(urls[page])
    assert response.status_code == 200


def test_project_page_shows_newest_releases_and_totals(admin_client, big_project):
    response = admin_client.get(reverse("admin:packages_app_project_change", args=[big_project.pk]))
    body = response.content.decode()
    assert "5000 releases" in body
    assert "2 files" in body
    assert "4.99.9" in body  # newest by version
    assert "0.0.0" not in body  # the list is bounded


def test_add_project_goes_through_the_service(admin_client):
    response = admin_client.post(reverse("admin:packages_app_project_add"), {"name": "New_Thing"})
    assert response.status_code == 302
    project = Project.objects.get()
    assert project.normalized_name == "new-thing"
    assert JournalEntry.objects.get().action == "create"


def test_add_project_with_a_taken_name_is_a_form_error(admin_client):
    projects.create_project("new-thing")
    response = admin_client.post(reverse("admin:packages_app_project_add"), {"name": "New_Thing"})
    assert response.status_code == 200
    assert "conflicts with the existing project" in response.content.decode()
    assert Project.objects.count() == 1


def test_add_file_less_release_through_the_admin(admin_client, big_project):
    response = admin_client.post(
        reverse("admin:packages_app_release_add"),
        {"project": big_project.pk, "version": "9.0", "summary": "placeholder", "requires_python": ""},
    )
    assert response.status_code == 302
    release = big_project.releases.get(version="9.0")
    assert release.files.count() == 0
    assert JournalEntry.objects.order_by("-id").first().action == "new release"


def test_add_existing_release_is_a_form_error(admin_client, big_project):
    response = admin_client.post(
        reverse("admin:packages_app_release_add"),
        {"project": big_project.pk, "version": "4.99.9.0", "summary": "", "requires_python": ""},
    )
    assert response.status_code == 200
    assert "already has a release 4.99.9.0" in response.content.decode()


def test_yank_action_with_reason_is_journaled(admin_client):
    release = releases.create_release(projects.create_project("demo"), "1.0")
    response = admin_client.post(
        reverse("admin:packages_app_release_changelist"),
        {"action": "yank", "_selected_action": [release.pk], "reason": "security hole"},
    )
    assert response.status_code == 302
    release.refresh_from_db()
    assert (release.yanked, release.yanked_reason) == (True, "security hole")
    entry = JournalEntry.objects.order_by("-id").first()
    assert (entry.action, entry.submitted_by.username) == ("yank release", "root")


def test_status_action_sets_status_and_reason(admin_client):
    project = projects.create_project("demo")
    admin_client.post(
        reverse("admin:packages_app_project_changelist"),
        {"action": "set_status_archived", "_selected_action": [project.pk], "reason": "superseded"},
    )
    project.refresh_from_db()
    assert (project.status, project.status_reason) == ("archived", "superseded")


def test_delete_file_action_asks_first_then_keeps_the_name_registered(admin_client):
    release = releases.create_release(projects.create_project("demo"), "1.0")
    file = FileFactory(release=release)
    url = reverse("admin:packages_app_file_changelist")
    asked = admin_client.post(url, {"action": "delete_files", "_selected_action": [file.pk]})
    assert asked.status_code == 200
    assert "can never be used again" in asked.content.decode()
    assert file.filename in asked.content.decode()
    assert File.objects.exists()  # nothing happens before the confirmation
    response = admin_client.post(url, {"action": "delete_files", "_selected_action": [file.pk], "confirm": "yes"})
    assert response.status_code == 302
    assert not File.objects.exists()
    assert JournalEntry.objects.order_by("-id").first().action == f"remove file {file.filename}"


def test_delete_release_action_asks_first(admin_client):
    release = releases.create_release(projects.create_project("demo"), "1.0")
    url = reverse("admin:packages_app_release_changelist")
    asked = admin_client.post(url, {"action": "delete_releases", "_selected_action": [release.pk]})
    assert "can never be used again" in asked.content.decode()
    assert Release.objects.exists()
    admin_client.post(url, {"action": "delete_releases", "_selected_action": [release.pk], "confirm": "yes"})
    assert not Release.objects.exists()


def test_delete_page_warns_that_filenames_are_gone_for_good(admin_client):
    file = FileFactory(release=releases.create_release(projects.create_project("demo"), "1.0"))
    page = admin_client.get(reverse("admin:packages_app_file_delete", args=[file.pk]))
    assert "can never be used again" in page.content.decode()


def test_dashboard_shows_totals_latest_uploads_and_changes(admin_client, django_assert_max_num_queries):
    project = projects.create_project("demo")
    file = FileFactory(release=releases.create_release(project, "1.0"), size=2048)
    with django_assert_max_num_queries(12):
        page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Storage used" in page
    assert "2.0\xa0KB" in page or "2.0 KB" in page
    assert file.filename in page
    assert "new release" in page


def test_project_page_links_to_its_pages(admin_client):
    project = projects.create_project("Demo_Pkg")
    page = admin_client.get(reverse("admin:packages_app_project_change", args=[project.pk])).content.decode()
    for url in ("/simple/demo-pkg/", "/pypi/demo-pkg/json", "/api/v1/projects/demo-pkg/"):
        assert f'href="{url}"' in page


def new_token_page(admin_client, admin_user, **fields):
    """Create a token through the admin's add form: the answer to the POST shows the secret."""
    posted = admin_client.post(reverse("admin:packages_app_apitoken_add"), {"user": admin_user.pk, **fields})
    assert posted.status_code == 200
    return posted, re.search(r'value="(pyidx_[^"]+)"', posted.content.decode()).group(1)


def test_token_secret_is_shown_once(admin_client, admin_user):
    posted, plaintext = new_token_page(admin_client, admin_user, name="laptop", expires_in_days="30")
    assert "no-store" in posted["Cache-Control"]
    assert "Token created" in posted.content.decode()
    again = admin_client.get(reverse("admin:packages_app_apitoken_add"))  # what a reload asks for
    assert plaintext not in again.content.decode()
    token = ApiToken.objects.get()
    assert token.expires is not None
    detail = admin_client.get(reverse("admin:packages_app_apitoken_change", args=[token.pk])).content.decode()
    assert token.key_id in detail
    assert plaintext not in detail
    assert plaintext.split("_", 2)[2] not in detail


def test_a_new_tokens_secret_is_kept_nowhere(admin_client, admin_user):
    """Not in the session (where it once waited for the page that showed it), nor in any table."""
    _posted, plaintext = new_token_page(admin_client, admin_user, name="laptop")
    secret = plaintext.split("_", 2)[2]
    sessions = [json.dumps(session.get_decoded()) for session in Session.objects.all()]
    assert sessions  # the admin's own session is there to look into
    assert not any(secret in session for session in sessions)
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from the database
            for row in cursor.fetchall():
                assert not any(secret in str(cell) for cell in row), table


def test_journal_is_read_only(admin_client):
    projects.create_project("demo")
    entry = JournalEntry.objects.get()
    assert admin_client.get(reverse("admin:packages_app_journalentry_add")).status_code == 403
    assert admin_client.post(reverse("admin:packages_app_journalentry_delete", args=[entry.pk])).status_code == 403


def test_admin_requires_login(client):
    response = client.get(reverse("admin:packages_app_project_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_status_is_set_on_the_project_page_through_the_service(admin_client):
    project = projects.create_project("demo")
    url = reverse("admin:packages_app_project_change", args=[project.pk])
    response = admin_client.post(url, {"status": "archived", "status_reason": "moved to demo2"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.status, project.status_reason) == ("archived", "moved to demo2")
    entry = JournalEntry.objects.order_by("-id").first()
    assert (entry.action, entry.submitted_by.username) == ("set status archived", "root")
    assert project.last_serial == entry.id


def test_saving_the_project_page_unchanged_writes_nothing(admin_client):
    project = projects.create_project("demo")
    url = reverse("admin:packages_app_project_change", args=[project.pk])
    admin_client.post(url, {"status": "active", "status_reason": ""})
    assert JournalEntry.objects.count() == 1  # only "create"


def test_links_from_the_project_page_open(admin_client):
    project = projects.create_project("demo")
    FileFactory(release=releases.create_release(project, "1.0"))
    page = admin_client.get(reverse("admin:packages_app_project_change", args=[project.pk])).content.decode()
    links = re.findall(r'href="(/admin/packages_app/(?:release|file|role)/[^"]*)"', page)
    assert len(links) >= 3
    for link in links:
        assert admin_client.get(link.replace("&amp;", "&")).status_code == 200, link


def test_yank_and_unyank_on_the_release_page_go_through_the_services(admin_client):
    release = releases.create_release(projects.create_project("demo"), "1.0")
    url = reverse("admin:packages_app_release_change", args=[release.pk])
    assert admin_client.post(url, {"yanked": "on", "yanked_reason": "broken"}).status_code == 302
    release.refresh_from_db()
    assert (release.yanked, release.yanked_reason) == (True, "broken")
    assert JournalEntry.objects.order_by("-id").first().action == "yank release"
    admin_client.post(url, {"yanked_reason": ""})
    release.refresh_from_db()
    assert (release.yanked, release.yanked_reason) == (False, "")
    assert JournalEntry.objects.order_by("-id").first().action == "unyank release"
    entries = JournalEntry.objects.count()
    admin_client.post(url, {"yanked_reason": ""})  # saved unchanged: nothing to record
    assert JournalEntry.objects.count() == entries


@pytest.fixture
def owned_project(db):
    """demo: amy its only Owner, bob a Maintainer."""
    project = projects.create_project("demo")
    amy, bob = UserFactory(username="amy"), UserFactory(username="bob")
    return project, roles.grant_role(project, amy, "Owner"), roles.grant_role(project, bob, "Maintainer")


def test_a_roles_user_and_project_cannot_be_changed_only_its_name(admin_client, owned_project):
    project, _amy, bob = owned_project
    other, carl = projects.create_project("other"), UserFactory(username="carl")
    url = reverse("admin:packages_app_role_change", args=[bob.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="project"' not in page
    assert 'name="user"' not in page
    response = admin_client.post(url, {"project": other.pk, "user": carl.pk, "role_name": "Owner"})
    assert response.status_code == 302
    assert list(
        Role.objects.order_by("user__username").values_list("project__name", "user__username", "role_name")
    ) == [
        ("demo", "amy", "Owner"),
        ("demo", "bob", "Owner"),
    ]
    entry = JournalEntry.objects.order_by("-id").first()
    assert (entry.name, entry.action, entry.submitted_by.username) == ("demo", "add Owner bob", "root")
    entries = JournalEntry.objects.count()
    admin_client.post(url, {"role_name": "Owner"})  # saved unchanged: nothing to record
    assert JournalEntry.objects.count() == entries


@pytest.mark.parametrize("how", ["role page", "delete page", "revoke action"])
def test_the_last_owner_stays_whatever_the_admin_tries(admin_client, owned_project, how):
    _project, amy, bob = owned_project
    entries = JournalEntry.objects.count()
    if how == "role page":
        url = reverse("admin:packages_app_role_change", args=[amy.pk])
        response = admin_client.post(url, {"role_name": "Maintainer"}, follow=True)
    elif how == "delete page":
        url = reverse("admin:packages_app_role_delete", args=[amy.pk])
        response = admin_client.post(url, {"post": "yes"}, follow=True)
    else:
        url = reverse("admin:packages_app_role_changelist")
        response = admin_client.post(url, {"action": "revoke_roles", "_selected_action": [amy.pk, bob.pk]}, follow=True)
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert "amy is the last Owner of demo; make another user an Owner first." in shown
    assert Role.objects.get(pk=amy.pk).role_name == "Owner"
    if how == "revoke action":  # the others selected with it go
        assert not Role.objects.filter(pk=bob.pk).exists()
        assert "Revoked 1 role." in shown
    else:
        assert JournalEntry.objects.count() == entries


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1/0", "'1/0' is invalid for 'version'"),
        ("1.0+local", "The use of local versions in '1.0+local' is not allowed"),
    ],
)
def test_add_release_refuses_a_version_uploads_would_refuse(admin_client, client, version, message):
    project = projects.create_project("demo")
    response = admin_client.post(
        reverse("admin:packages_app_release_add"),
        {"project": project.pk, "version": version, "summary": "", "requires_python": ""},
    )
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert not Release.objects.exists()
    assert client.get(reverse("api:releases", args=["demo"])).status_code == 200


def _staff_client(*codenames: str) -> Client:
    """A staff user (not a superuser) with these Django permissions of the package app."""
    from django.contrib.auth.models import Permission

    user = UserFactory(username="clerk", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="packages_app", codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def test_visibility_is_set_on_the_project_page_by_staff_who_may_change_projects(db):
    project = projects.create_project("demo")
    url = reverse("admin:packages_app_project_change", args=[project.pk])
    form = {"status": "active", "status_reason": "", "visibility": "restricted"}
    assert _staff_client("view_project").post(url, form).status_code == 403  # view-only
    project.refresh_from_db()
    assert project.visibility == "index"
    response = _staff_client("view_project", "change_project").post(url, form)
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.visibility == "restricted"
    entry = JournalEntry.objects.order_by("-id").first()
    assert (entry.kind, entry.action, entry.submitted_by.username) == (
        "project-visibility-set",
        "set visibility restricted",
        "clerk",
    )


def test_a_role_is_given_to_a_user_or_a_team_never_both(admin_client):
    from django.contrib.auth.models import Group

    project = projects.create_project("demo")
    team = Group.objects.create(name="blue")
    owner = UserFactory(username="olivia")
    url = reverse("admin:packages_app_role_add")
    both = admin_client.post(url, {"project": project.pk, "user": owner.pk, "team": team.pk, "role_name": "Reader"})
    assert both.status_code == 200
    assert "Give the role to a user or to a team (one of the two)." in both.content.decode()
    response = admin_client.post(url, {"project": project.pk, "team": team.pk, "role_name": "Reader"})
    assert response.status_code == 302
    assert project.roles.get().team == team
    assert JournalEntry.objects.order_by("-id").first().action == "add Reader team:blue"
