"""API token format, hashing and verification.

A token reads ``pyidx_<key id>_<secret>``: the fixed prefix lets secret
scanners recognise a leaked token, the key id (hex, public) finds the row, and
only a sha256 of the secret is stored. The secret carries 256 random bits, so
a fast hash is enough: there is nothing to brute-force that a slow hash would
protect (this is how the large code hosts store their tokens too).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "pyidx_"  # noqa: S105 - a public prefix, not a secret
TOKEN_USERNAME = "__token__"  # noqa: S105 - the conventional user name for tokens
_KEY_ID = re.compile(r"[0-9a-f]{1,32}\Z")


@dataclass(frozen=True)
class NewSecret:
    key_id: str
    secret_hash: str
    plaintext: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def generate() -> NewSecret:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewSecret(key_id=key_id, secret_hash=hash_secret(secret), plaintext=f"{TOKEN_PREFIX}{key_id}_{secret}")


def split(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed token, else None.

    The key id is looked up in the database, so only what ``generate`` makes
    (lower-case hex) gets that far: PostgreSQL refuses a NUL in a query
    parameter with an error, not an empty answer.
    """
    token = token.strip()
    if not token.startswith(TOKEN_PREFIX):
        return None
    key_id, sep, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not secret or not _KEY_ID.match(key_id):
        return None
    return key_id, secret


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)
