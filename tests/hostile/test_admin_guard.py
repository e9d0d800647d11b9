"""The admin is behind a staff login, and its forms behind CSRF tokens.
(Its login form is throttled per client: test_throttling.)"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from packages_app.models import Project
from tests.factories import UserFactory
from tests.hostile.conftest import PASSWORD


def admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    return urls


@pytest.mark.parametrize("who", ["anonymous", "signed-in, not staff"])
def test_every_admin_page_needs_a_staff_login(client, db, who):
    if who != "anonymous":
        client.force_login(UserFactory(username="reader", is_staff=False))
    for url in admin_urls():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


def csrf_token_of(client: Client, url: str) -> str:
    page = client.get(url)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def test_the_login_form_needs_its_csrf_token(db):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 403
    token = csrf_token_of(client, "/admin/login/")
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_admin_writes_need_the_csrf_token(db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:packages_app_project_add")
    response = client.post(url, {"name": "forged"})
    assert response.status_code == 403
    assert not Project.objects.filter(normalized_name="forged").exists()
    token = csrf_token_of(client, url)
    response = client.post(url, {"name": "forged", "csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.content[:2000]
    assert Project.objects.filter(normalized_name="forged").exists()
