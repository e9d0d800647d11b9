"""Retention policies added and removed, releases pinned, and policies applied.

Applying deletes through ``releases.delete_releases`` (journaled, filenames registered for
ever, stored files removed after commit). Each batch is chosen again under the write lock,
so an upload that lands meanwhile is judged with the project as it is then: a release it
makes newer than the kept ones is never deleted on a stale count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from packages_app import retention
from packages_app.models import Project, Release, RetentionPolicy
from packages_app.services import journal
from packages_app.services.errors import ServiceError
from packages_app.services.releases import delete_releases

BATCH = 200


@journal.write_transaction()
def add_policy(
    project: Project | None,
    *,
    dev: bool = True,
    pre: bool = False,
    post: bool = False,
    version_pattern: str = "",
    keep_newest: int | None = None,
    older_than_days: int | None = None,
    user=None,
) -> RetentionPolicy:
    """A retention policy for ``project``, or index-wide (``project`` None)."""
    if not (dev or pre or post):
        raise ServiceError("A retention policy applies to dev, pre- or post-releases: choose at least one.")
    if keep_newest is None and older_than_days is None:
        raise ServiceError("A retention policy needs keep_newest, older_than_days, or both.")
    if (keep_newest is not None and keep_newest < 0) or (older_than_days is not None and older_than_days < 0):
        raise ServiceError("keep_newest and older_than_days are counts: 0 or more.")
    policy = RetentionPolicy.objects.create(
        project=project,
        dev=dev,
        pre=pre,
        post=post,
        version_pattern=version_pattern.strip()[:255],
        keep_newest=keep_newest,
        older_than_days=older_than_days,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    # Journaled without a project, like tokens: a policy changes no page until it is applied.
    journal.record(f"add retention policy {retention.describe(policy)}", kind=journal.RETENTION_CHANGED, user=user)
    return policy


@journal.write_transaction()
def remove_policy(policy: RetentionPolicy, *, user=None) -> None:
    policy = RetentionPolicy.objects.select_related("project").get(pk=policy.pk)
    text = retention.describe(policy)
    policy.delete()
    journal.record(f"remove retention policy {text}", kind=journal.RETENTION_CHANGED, user=user)


@journal.write_transaction()
def set_keep(release: Release, keep: bool, *, user=None) -> Release:
    """Pin (``keep``) a release so no retention policy deletes it, or unpin it."""
    release = Release.objects.select_related("project").get(pk=release.pk)
    if release.keep != keep:
        release.keep = keep
        release.save(update_fields=["keep"])
        verb = "pin" if keep else "unpin"
        action = f"{verb} release {release.project.name} {release.version} (retention)"
        journal.record(action, kind=journal.RETENTION_CHANGED, user=user)
    return release


def plan(project: Project | None = None) -> Iterator[retention.Doomed]:
    """What applying the policies now would delete, project by project, oldest release first."""
    index_wide = retention.index_wide_policies()
    projects = [project] if project is not None else retention.projects_to_check(index_wide)
    for each in projects:
        doomed = retention.doomed_releases(each, retention.policies_for(each, index_wide))
        yield from retention.with_sizes(doomed)


def apply(
    project: Project | None = None, *, on_deleted: Callable[[retention.Doomed], None] | None = None
) -> list[retention.Doomed]:
    """Delete what the policies select, a batch at a time, each batch chosen under the write lock."""
    index_wide = retention.index_wide_policies()
    projects = [project] if project is not None else retention.projects_to_check(index_wide)
    deleted: list[retention.Doomed] = []
    for each in projects:
        while True:
            batch = _delete_batch(each, index_wide)
            for item in batch:
                deleted.append(item)
                if on_deleted is not None:
                    on_deleted(item)
            if len(batch) < BATCH:
                break
    return deleted


@journal.write_transaction()
def _delete_batch(project: Project, index_wide: list[RetentionPolicy]) -> list[retention.Doomed]:
    doomed = retention.doomed_releases(project, retention.policies_for(project, index_wide))[:BATCH]
    doomed = retention.with_sizes(doomed)
    delete_releases(project, [item.release_id for item in doomed])
    return doomed
