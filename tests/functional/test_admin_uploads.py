"""A file's admin page says who uploaded it and with which API token (superusers only),
from the upload's journal entry; sizes read as sizes."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from harness.dists import build_wheel
from packages_app.models import File, JournalEntry
from packages_app.services import tokens
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, post_upload, twine_fields


@pytest.fixture
def uploaded(db, tmp_path):
    owner = UserFactory(username="uploader")
    _, secret = tokens.create_token(owner, name="ci release token")
    wheel = build_wheel(tmp_path, "audit_pkg", "1.0")
    response = post_upload(Client(), twine_fields(wheel, "audit_pkg", "1.0"), basic_auth("__token__", secret))
    assert response.status_code == 200, response.content
    return File.objects.get()


def _file_page(client, file: File) -> str:
    response = client.get(reverse("admin:packages_app_file_change", args=[file.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_upload_journals_its_token(uploaded):
    entry = JournalEntry.objects.get(kind="file-added")
    key_id = entry.token_key_id
    assert key_id
    assert entry.token_name == "ci release token"


def test_superuser_sees_who_uploaded_with_which_token(admin_client, uploaded):
    page = _file_page(admin_client, uploaded)
    entry = JournalEntry.objects.get(kind="file-added")
    assert "by uploader" in page
    assert f"ci release token (key id {entry.token_key_id})" in page
    assert f"journal entry #{entry.pk}" in page
    assert " UTC" in page


def test_staff_see_who_but_not_the_token(client, uploaded):
    staff = UserFactory(username="staff", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_file"))
    client.force_login(staff)
    page = _file_page(client, uploaded)
    assert "by uploader" in page
    assert "ci release token" not in page
    assert JournalEntry.objects.get(kind="file-added").token_key_id not in page


def test_trusted_publisher_upload_is_shown(admin_client, uploaded):
    JournalEntry.objects.filter(kind="file-added").update(publisher="GitHub acme/audit release.yml")
    File.objects.update(uploaded_by=None, uploaded_by_publisher="")
    page = _file_page(admin_client, uploaded)
    assert "trusted publisher GitHub acme/audit release.yml" in page


def test_sizes_are_human_readable(admin_client, uploaded):
    File.objects.update(size=3 * 1024 * 1024)
    assert "3.0\xa0MB" in _file_page(admin_client, uploaded)
    listing = admin_client.get(reverse("admin:packages_app_file_changelist")).content.decode()
    assert "3.0\xa0MB" in listing
    release_page = admin_client.get(reverse("admin:packages_app_release_change", args=[uploaded.release_id]))
    assert "3.0\xa0MB" in release_page.content.decode()


def test_file_page_queries_are_bounded(admin_client, uploaded, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        _file_page(admin_client, uploaded)


def test_dashboard_names_a_trusted_publishers_upload(admin_client, uploaded):
    File.objects.update(uploaded_by=None, uploaded_by_publisher="GitHub acme/audit release.yml")
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "trusted publisher GitHub acme/audit release.yml" in page
    assert " UTC</td>" in page
