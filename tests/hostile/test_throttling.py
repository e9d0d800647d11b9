"""Failed authentication is throttled per client (address + user name, or token key id):
upload, metadata API and the admin's login form. 429 with Retry-After and a
message; nobody else's good sign-in is ever blocked by those failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.test import override_settings
from django.utils import timezone

from harness.dists import build_wheel
from harness.upload_form import Upload, form_for
from packages_app import throttling
from packages_app.models import ApiToken, File
from packages_app.services import projects, roles, tokens
from tests import services
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth
from tests.hostile import catalogue, checks
from tests.hostile.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 10  # AUTH_FAILURE_LIMIT's default
WRONG = basic_auth("owner", "wrong password")
LOCKED = "Too many failed authentication attempts from this address with these credentials."


def upload(client, auth: str, address: str, form=None):
    form = form if form is not None else catalogue.sound_form()
    return checks.send(client, Upload.of(form), auth, REMOTE_ADDR=address)


def fail(client, auth: str, address: str, times: int = LIMIT) -> None:
    for _ in range(times):
        assert upload(client, auth, address).status_code == 401


def assert_locked_out(response) -> None:
    checks.assert_refused(response, LOCKED, 429)
    assert response["Retry-After"] == "300"
    assert "Try again in 300 seconds." in response.content.decode()


def test_defaults(settings):
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 300
    assert settings.AXES_LOCKOUT_PARAMETERS == [["ip_address", "username"]]
    assert settings.AXES_HANDLER == "axes.handlers.cache.AxesCacheHandler"


def test_password_failures_lock_out_that_client_only(client, owner, owner_auth, tmp_path):
    fail(client, WRONG, "10.0.0.1")
    # Past the limit even the right password waits: that is what stops guessing.
    assert_locked_out(upload(client, owner_auth, "10.0.0.1"))
    assert not File.objects.exists()
    # The same user from another address, and another user from the same address, are not blocked.
    assert upload(client, owner_auth, "10.0.0.2").status_code == 200
    UserFactory(username="other")
    elsewhere = build_wheel(tmp_path, "elsewhere", "1.0")
    response = upload(client, basic_auth("other", PASSWORD), "10.0.0.1", form_for(elsewhere, "elsewhere", "1.0"))
    assert response.status_code == 200, response.content


def test_the_limit_is_the_failure_limit(client, owner, owner_auth):
    fail(client, WRONG, "10.0.0.1", LIMIT - 1)
    assert upload(client, owner_auth, "10.0.0.1").status_code == 200


def test_a_success_clears_the_count(client, owner, owner_auth, tmp_path):
    fail(client, WRONG, "10.0.0.1", LIMIT - 1)
    assert upload(client, owner_auth, "10.0.0.1").status_code == 200
    fail(client, WRONG, "10.0.0.1", LIMIT - 1)
    assert upload(client, owner_auth, "10.0.0.1").status_code == 200


def test_the_lockout_ends_after_the_cool_off(client, owner, owner_auth, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    fail(client, WRONG, "10.0.0.1")
    assert upload(client, owner_auth, "10.0.0.1").status_code == 429
    # A real wait, not a moved clock: the lockout ends when axes's failure count leaves the cache, and
    # with REDIS_URL that is Redis expiring the key on its own clock, which time-machine cannot move.
    time.sleep(1.5)
    assert upload(client, owner_auth, "10.0.0.1").status_code == 200


def test_token_failures_count_per_key_id(client, owner):
    revoked, revoked_plaintext = tokens.create_token(owner, name="old ci")
    tokens.revoke_token(revoked)
    _good, good_plaintext = tokens.create_token(owner, name="ci")
    fail(client, basic_auth("__token__", revoked_plaintext), "10.0.0.1")
    assert_locked_out(upload(client, basic_auth("__token__", revoked_plaintext), "10.0.0.1"))
    # Another job's good token from the same address (a CI runner's NAT) goes through.
    assert upload(client, basic_auth("__token__", good_plaintext), "10.0.0.1").status_code == 200


def test_tokens_that_do_not_parse_share_one_count(client, owner):
    _good, good_plaintext = tokens.create_token(owner)
    for attempt in range(LIMIT):
        assert upload(client, f"Bearer not-a-token-{attempt}", "10.0.0.1").status_code == 401
    assert_locked_out(upload(client, "Bearer not-a-token-again", "10.0.0.1"))
    assert upload(client, f"Bearer {good_plaintext}", "10.0.0.1").status_code == 200


def test_the_api_answers_a_lockout_as_a_problem(client, owner):
    project = projects.create_project("demo")
    roles.grant_role(project, owner, "Owner")
    _token, plaintext = tokens.create_token(owner)
    key_id = plaintext.split("_")[1]
    wrong = f"Bearer pyidx_{key_id}_not-the-secret"
    url = "/api/v1/projects/demo/releases/"
    body = json.dumps({"version": "9.0"})

    def post(auth):
        return client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=auth, REMOTE_ADDR="10.0.0.1")

    for _ in range(LIMIT):
        assert post(wrong).status_code == 401
    response = post(f"Bearer {plaintext}")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "300"
    assert response.json()["detail"] == f"{LOCKED} Expected available in 300 seconds."
    # The lockout is per key id: the same token's owner is blocked, reads without credentials are not.
    assert client.get("/api/v1/projects/demo/", REMOTE_ADDR="10.0.0.1").status_code == 200


def test_the_admin_login_is_throttled(client, db):
    UserFactory(username="root", is_staff=True, is_superuser=True)

    def login(password: str, address: str):
        return client.post(
            "/admin/login/?next=/admin/", {"username": "root", "password": password}, REMOTE_ADDR=address
        )

    for _ in range(LIMIT - 1):
        assert login("wrong", "10.0.0.1").status_code == 200  # the form again, with its error
    locked = login("wrong", "10.0.0.1")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "300"
    assert LOCKED in locked.content.decode()
    assert login(PASSWORD, "10.0.0.1").status_code == 429
    assert login(PASSWORD, "10.0.0.2").status_code == 302


def test_forwarded_addresses_are_ignored_unless_a_proxy_is_trusted(client, owner, owner_auth):
    for attempt in range(LIMIT):
        response = upload_from(client, WRONG, "10.0.0.1", f"192.0.2.{attempt}")
        assert response.status_code == 401
    assert upload_from(client, owner_auth, "10.0.0.1", "198.51.100.7").status_code == 429


def upload_from(client, auth: str, address: str, forwarded: str):
    return checks.send(
        client, Upload.of(catalogue.sound_form()), auth, REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=forwarded
    )


def test_behind_a_trusted_proxy_clients_are_told_apart(client, owner, owner_auth, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.254"
    for _ in range(LIMIT):
        assert upload_from(client, WRONG, proxy, "192.0.2.1").status_code == 401
    assert upload_from(client, owner_auth, proxy, "192.0.2.1").status_code == 429
    # What the client writes to the left of the proxy's entry proves nothing.
    assert upload_from(client, owner_auth, proxy, "198.51.100.7, 192.0.2.1").status_code == 429
    assert upload_from(client, owner_auth, proxy, "198.51.100.7").status_code == 200


def test_address_and_name_never_run_together(client, db, tmp_path):
    """axes joins the two into one key: '10.0.0.1' + '2bob' must not count against '10.0.0.12' + 'bob'."""
    UserFactory(username="bob")
    fail(client, basic_auth("2bob", "guess"), "10.0.0.1")
    wheel = build_wheel(tmp_path, "bobs", "1.0")
    response = upload(client, basic_auth("bob", PASSWORD), "10.0.0.12", form_for(wheel, "bobs", "1.0"))
    assert response.status_code == 200, response.content


def test_an_expired_token_counts_as_a_failure(client, owner):
    token, plaintext = tokens.create_token(owner)
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    fail(client, f"Bearer {plaintext}", "10.0.0.1")
    assert upload(client, f"Bearer {plaintext}", "10.0.0.1").status_code == 429


@pytest.fixture
def shared_redis(settings):
    """The default cache in a real Redis, under a prefix of this test's own, as with REDIS_URL set."""
    services.require("Redis")
    prefix = f"test-throttle-{uuid.uuid4().hex}"
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": services.REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    # Re-setting AXES_HANDLER makes axes pick up the new cache (it keeps one from start-up).
    with override_settings(CACHES=caches, AXES_HANDLER=settings.AXES_HANDLER):
        yield prefix
    # Only this test's keys: cache.clear() would empty the whole Redis database, other runs' keys too.
    client = redis.Redis.from_url(services.REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


ASK_ANOTHER_PROCESS = """
import django
django.setup()
from axes.handlers.proxy import AxesProxyHandler
from django.test import RequestFactory
for address in ("10.0.0.1", "10.0.0.2"):
    request = RequestFactory().post("/legacy/", REMOTE_ADDR=address)
    print(address, AxesProxyHandler.is_allowed(request, {"username": "owner"}))
"""


# The run's own choices must not decide what the other interpreter sees.
_RUN_SETTINGS = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "FILE_STORAGE", "REDIS_URL", "CACHE_KEY_PREFIX"}
_RUN_SETTINGS |= {"PRODUCTION", "SECRET_KEY", "DEBUG", "S3_BUCKET", "S3_DOWNLOADS", "LOG_FORMAT"}


def test_counts_are_shared_by_every_process_through_redis(client, owner, shared_redis, tmp_path):
    """What gunicorn's workers (and other nodes) see: another interpreter, the same Redis."""
    fail(client, WRONG, "10.0.0.1")
    env = {key: value for key, value in os.environ.items() if key not in _RUN_SETTINGS}
    env.update(
        DJANGO_SETTINGS_MODULE="indexsite.settings",
        DEBUG="true",
        INDEX_DATA_DIR=str(tmp_path),
        REDIS_URL=services.REDIS_URL,
        CACHE_KEY_PREFIX=shared_redis,
    )
    result = subprocess.run(
        [sys.executable, "-c", ASK_ANOTHER_PROCESS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["10.0.0.1 False", "10.0.0.2 True"]


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "10.0.0.254"),  # no proxy trusted: the header proves nothing
        (1, "192.0.2.1", "192.0.2.1"),
        (1, "198.51.100.7, 192.0.2.1", "192.0.2.1"),  # the client wrote the left entry
        (2, "198.51.100.7, 192.0.2.1, 10.0.0.9", "192.0.2.1"),
        (2, "192.0.2.1", "10.0.0.254"),  # fewer entries than proxies: not through them all
        (1, " , ", "10.0.0.254"),
        (1, "", "10.0.0.254"),
    ],
)
def test_the_client_address(rf, settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.post("/legacy/", REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR=forwarded)
    assert throttling.client_ip(request) == expected
