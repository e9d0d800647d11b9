"""The admin's token form starts with the requester as the user, and the page that shows a new
token's secret offers it ready to paste: .pypirc, uv's environment, an index URL."""

import html
import re

from django.test import override_settings
from django.urls import reverse

from tests.factories import UserFactory

ADD = "admin:packages_app_apitoken_add"


def test_the_form_defaults_to_the_requesting_user(admin_client, admin_user):
    form = admin_client.get(reverse(ADD)).context["adminform"].form
    assert form.initial["user"] == admin_user.pk
    assert f'value="{admin_user.pk}"' in admin_client.get(reverse(ADD)).content.decode()


def test_a_superuser_may_still_name_another_user(admin_client, admin_user):
    other = UserFactory(username="other")
    response = admin_client.get(reverse(ADD), {"user": other.pk})
    assert response.context["adminform"].form.initial["user"] == str(other.pk)


def _created(admin_client, admin_user) -> tuple[str, str]:
    posted = admin_client.post(reverse(ADD), {"user": admin_user.pk, "name": "ci"}, HTTP_HOST="index.example")
    assert posted.status_code == 200
    page = html.unescape(posted.content.decode())
    return page, re.search(r'value="(pyidx_[^"]+)"', page).group(1)


@override_settings(PUBLIC_BASE_URL="", ALLOWED_HOSTS=["index.example"])
def test_snippets_use_the_requests_host(admin_client, admin_user):
    page, token = _created(admin_client, admin_user)
    assert (
        "[distutils]\nindex-servers =\n    private\n\n[private]\n"
        f"repository = http://index.example/legacy/\nusername = __token__\npassword = {token}\n"
    ) in page
    assert f"export UV_PUBLISH_URL=http://index.example/legacy/\nexport UV_PUBLISH_TOKEN={token}\n" in page
    assert f"http://__token__:{token}@index.example/simple/" in page


@override_settings(PUBLIC_BASE_URL="https://packages.corp.example", ALLOWED_HOSTS=["index.example"])
def test_snippets_use_public_base_url(admin_client, admin_user):
    page, token = _created(admin_client, admin_user)
    assert "repository = https://packages.corp.example/legacy/" in page
    assert f"https://__token__:{token}@packages.corp.example/simple/" in page
    assert "index.example" not in page.split("<body", 1)[1].split('id="token-snippets"', 1)[1]


def test_token_list_dates_carry_the_time_zone(admin_client, admin_user):
    admin_client.post(reverse(ADD), {"user": admin_user.pk, "name": "dated", "expires_in_days": "3"})
    page = admin_client.get(reverse("admin:packages_app_apitoken_changelist")).content.decode()
    assert page.count(" UTC</td>") >= 2  # created and expires
    assert "API tokens" in page
