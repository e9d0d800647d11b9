"""A token's ``last_used`` is kept to the minute: not one write per request."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from harness.dists import build_wheel
from packages_app.models import ApiToken
from packages_app.services import tokens
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, post_upload, twine_fields


def upload(client, tmp_path, auth, version: str) -> list[str]:
    """Upload demo ``version``; the SQL of the request."""
    directory = tmp_path / version
    directory.mkdir()
    wheel = build_wheel(directory, "demo", version)
    with CaptureQueriesContext(connection) as context:
        response = post_upload(client, twine_fields(wheel, "demo", version), auth)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in context.captured_queries]


def token_writes(queries: list[str]) -> list[str]:
    return [sql for sql in queries if sql.startswith("UPDATE") and "packages_app_apitoken" in sql]


def test_last_used_is_written_at_most_once_a_minute(client, db, tmp_path, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    token, plaintext = tokens.create_token(UserFactory(username="alice"), name="ci")
    auth = basic_auth("__token__", plaintext)
    assert len(token_writes(upload(client, tmp_path, auth, "1.0"))) == 1
    first = ApiToken.objects.get(pk=token.pk).last_used
    assert first is not None
    time_machine.shift(30)
    assert token_writes(upload(client, tmp_path, auth, "2.0")) == []
    assert ApiToken.objects.get(pk=token.pk).last_used == first
    time_machine.shift(31)
    assert len(token_writes(upload(client, tmp_path, auth, "3.0"))) == 1
    assert ApiToken.objects.get(pk=token.pk).last_used > first


def test_the_write_is_conditional(client, db, tmp_path, time_machine):
    """The UPDATE itself asks for a stale ``last_used``: requests with the same token that all
    read it stale at once write it once, not each."""
    time_machine.move_to(timezone.now(), tick=False)
    token, plaintext = tokens.create_token(UserFactory(username="alice"), name="ci")
    writes = token_writes(upload(client, tmp_path, basic_auth("__token__", plaintext), "1.0"))
    assert len(writes) == 1
    where = writes[0].split("WHERE", 1)[1]
    assert '"last_used"' in where
