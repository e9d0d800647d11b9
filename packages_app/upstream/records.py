"""What the database knows of the upstream: the projects served from it and the files kept.

The page store holds the pages themselves (per node, revalidated); these rows are for
people and for the root list: which proxied projects there are (the admin's list, the
root list once a project's page was fetched), which of their files this index keeps, how
big they are, when they were fetched. Removing a project's cached files removes the
bytes and the rows; the next download fetches them again.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from packages_app.models import CachedUpstreamFile, NamespaceGrant, Project, UpstreamProject
from packages_app.storage import package_storage
from packages_app.upstream import guard

logger = logging.getLogger("packages_app.upstream")


def page_fetched(normalized: str) -> None:
    """Upstream answered for ``normalized`` (a page, or a 304 for the kept one)."""
    now = timezone.now()
    if not UpstreamProject.objects.filter(normalized_name=normalized).update(last_fetched=now):
        UpstreamProject.objects.get_or_create(
            normalized_name=normalized, defaults={"first_fetched": now, "last_fetched": now}
        )


def file_kept(path: str, size: int) -> None:
    """A file (or ``.metadata``) now kept at ``path`` (``upstream/<project>/<sha256>/<filename>``)."""
    _, normalized, sha256, filename = path.split("/")
    project, _ = UpstreamProject.objects.get_or_create(normalized_name=normalized)
    try:
        with transaction.atomic():
            CachedUpstreamFile.objects.get_or_create(
                path=path, defaults={"project": project, "filename": filename, "size": size, "sha256": sha256}
            )
    except IntegrityError:  # a concurrent first download recorded it
        pass


def listing_tag() -> str:
    """What the root list's proxied names depend on, in one query ("" when there are none): the
    rows (changes when one comes or goes) and the guard's settings."""
    counted = UpstreamProject.objects.aggregate(count=Count("id"), newest=Max("id"))
    if not counted["count"]:
        return ""
    rules = repr((settings.UPSTREAM_BLOCKED_PREFIXES, settings.UPSTREAM_ALLOWED_PROJECTS)).encode()
    return f"u{counted['count']}-{counted['newest']}-{hashlib.sha256(rules).hexdigest()[:12]}"


def listed_names() -> list[str]:
    """The proxied projects the root list names: fetched once, allowed by the guard today, not local."""
    names = list(UpstreamProject.objects.values_list("normalized_name", flat=True))
    local = set(Project.objects.filter(normalized_name__in=names).values_list("normalized_name", flat=True))
    granted = frozenset(NamespaceGrant.objects.filter(revoked__isnull=True).values_list("namespace", flat=True))
    return [name for name in names if name not in local and guard.refusal(name, granted) is None]


def remove_cached_files(projects) -> tuple[int, int]:
    """Delete the kept files of ``projects`` (UpstreamProject rows), bytes and rows: (files, bytes)."""
    storage = package_storage()
    removed = size = 0
    for cached in CachedUpstreamFile.objects.filter(project__in=projects).order_by("path"):
        storage.delete(cached.path)
        cached.delete()
        removed, size = removed + 1, size + cached.size
        logger.info("upstream cached file removed: %s", cached.path)
    return removed, size
