"""The upstream proxy: projects absent here served from ``UPSTREAM_INDEX_URL`` (docs/upstream.md).

``guard`` decides which names may come from upstream, ``client`` talks to it with bounded
time and size, ``pages`` keeps its project pages (revalidated, stale-if-error) and renders
them as ours, ``files`` fetches a file once, checks its hash and keeps it.
"""

from django.conf import settings


def enabled() -> bool:
    return bool(settings.UPSTREAM_INDEX_URL)
