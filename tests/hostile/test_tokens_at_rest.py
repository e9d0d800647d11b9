"""API tokens are stored as a hash of their secret and checked in constant time."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.db import connection

from packages_app import authentication, tokens
from packages_app.authentication import InvalidCredentials
from packages_app.models import ApiToken
from packages_app.services import tokens as token_services


@pytest.fixture
def compare_calls(monkeypatch):
    """Every hmac.compare_digest call the token check makes (the real function still answers)."""
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    return calls


def test_a_wrong_secret_is_compared_as_a_hash_in_constant_time(owner, compare_calls):
    token, plaintext = token_services.create_token(owner)
    wrong = f"pyidx_{token.key_id}_{'x' * 43}"
    with pytest.raises(InvalidCredentials, match="not recognised"):
        authentication.identify(f"Bearer {wrong}")
    assert compare_calls == [(hashlib.sha256(b"x" * 43).hexdigest(), token.secret_hash)]


def test_an_unknown_key_id_costs_the_same_comparison(db, compare_calls):
    """No row found still compares, so timing does not tell which key ids exist."""
    with pytest.raises(InvalidCredentials, match="not recognised"):
        authentication.identify(f"Bearer pyidx_{'a' * 16}_{'x' * 43}")
    assert compare_calls == [(hashlib.sha256(b"x" * 43).hexdigest(), "0" * 64)]


def test_the_right_secret_matches_through_the_same_comparison(owner, compare_calls):
    token, plaintext = token_services.create_token(owner)
    identity = authentication.identify(f"Bearer {plaintext}")
    assert identity.token == token
    assert len(compare_calls) == 1


def test_only_a_hash_of_the_secret_is_stored(owner):
    token, plaintext = token_services.create_token(owner, name="ci")
    key_id, secret = tokens.split(plaintext)
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    # Every column of every token row, read straight from the table.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")  # noqa: S608 - a table name from the model
        cells = [str(cell) for row in cursor.fetchall() for cell in row]
    assert key_id in cells
    assert not any(secret in cell or plaintext in cell for cell in cells)


def test_secrets_are_long_and_random():
    made = {tokens.generate().plaintext for _ in range(100)}
    assert len(made) == 100
    for plaintext in made:
        _key_id, secret = tokens.split(plaintext)
        assert len(secret) >= 43  # 32 random bytes, urlsafe base64
