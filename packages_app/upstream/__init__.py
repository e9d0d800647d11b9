"""The upstream proxy: projects absent here served from ``UPSTREAM_INDEX_URL`` (docs/upstream.md).

``guard`` decides which names may come from upstream, ``client`` talks to it with bounded
time and size, ``pages`` keeps its project pages (revalidated, stale-if-error) and renders
them as ours, ``files`` fetches a file once, checks its hash and keeps it.
"""

from django.conf import settings


def enabled() -> bool:
    return bool(settings.UPSTREAM_INDEX_URL)


def local_only_note(normalized: str) -> str:
    """What an API that answers for local projects only (legacy JSON, the metadata API) says
    of a name it does not hold, when the simple pages may serve it from upstream ("" when off)."""
    if not enabled():
        return ""
    return (
        "This API answers for this index's own projects only; "
        f"a project served from the upstream index is read at /simple/{normalized}/."
    )
