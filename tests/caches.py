"""The test run's cache: its own keys, emptied between tests without touching anyone else's."""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def empty_own_cache() -> None:
    """Empty this test process's cache.

    On Redis, ``cache.clear()`` empties the whole database: the other pytest-xdist workers' keys
    and their index servers' too. Each test process has a key prefix of its own (tests/settings.py),
    so deleting what carries it is enough.
    """
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        cache.clear()  # in this process's memory
        return
    client = cache._cache.get_client(write=True)
    names = list(client.scan_iter(match=cache.make_key("*"), count=1000))
    if names:
        client.delete(*names)
