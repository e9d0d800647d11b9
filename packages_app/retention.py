"""Retention rules: which releases a project's policies (``RetentionPolicy``) would delete.

A release is a candidate of a policy when its version is of one of the policy's kinds (dev,
pre, post: ``1.0.dev3`` is dev, ``1.0rc1`` pre, ``1.0.post1`` post, ``1.0rc1.dev2`` dev) and
matches its shell-style ``version_pattern``. Of the candidates, newest first in PEP 440 order,
those past the newest ``keep_newest`` and created more than ``older_than_days`` ago (both
conditions when both are set) go. Never: the newest final release (post-releases are final
ones), a release pinned ``keep``, a version that is not PEP 440 (its kind is unknown).

A project with policies of its own follows only those; every other project follows the
index-wide ones. Any of a project's policies may select a release.

The same function answers ``--dry-run`` and the real run, so the two list the same releases.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from packages_app import versions
from packages_app.models import File, Project, Release, RetentionPolicy

KINDS = ("dev", "pre", "post")


@dataclass(frozen=True)
class Doomed:
    """A release a policy would delete, and what it holds."""

    project: str
    release_id: int
    version: str
    policy: str
    files: int = 0
    size: int = 0


def kind_of(version: str) -> str | None:
    """``dev``, ``pre``, ``post`` or ``final``; None for a version that is not PEP 440."""
    parsed = versions.parse(version)
    if parsed is None:
        return None
    if parsed.is_devrelease:
        return "dev"
    if parsed.pre is not None:
        return "pre"
    if parsed.is_postrelease:
        return "post"
    return "final"


def kinds(policy: RetentionPolicy) -> tuple[str, ...]:
    return tuple(kind for kind in KINDS if getattr(policy, kind))


def describe(policy: RetentionPolicy) -> str:
    what = "/".join(kinds(policy)) + "-releases"
    if policy.version_pattern:
        what += f" matching {policy.version_pattern}"
    limits = []
    if policy.keep_newest is not None:
        limits.append(f"keep the newest {policy.keep_newest}")
    if policy.older_than_days is not None:
        limits.append(f"delete those older than {policy.older_than_days} days")
    where = policy.project.name if policy.project_id is not None else "every project"
    return f"{where}: {what}, {' and '.join(limits)}"


def policies_for(project: Project, index_wide: list[RetentionPolicy]) -> list[RetentionPolicy]:
    own = list(RetentionPolicy.objects.filter(project=project).select_related("project"))
    return own or index_wide


def doomed_releases(project: Project, policies: list[RetentionPolicy], now: datetime | None = None) -> list[Doomed]:
    """The releases of ``project`` its ``policies`` delete, oldest first (files and sizes not counted)."""
    if not policies:
        return []
    now = now or timezone.now()
    rows = Release.objects.filter(project=project).order_by("-sort_key").values_list("pk", "version", "created", "keep")
    classified = [(pk, version, created, keep, kind_of(version)) for pk, version, created, keep in rows]
    newest_final = next((pk for pk, _, _, _, kind in classified if kind in ("final", "post")), None)
    doomed: dict[int, Doomed] = {}
    for policy in policies:
        wanted = kinds(policy)
        candidates = [
            row
            for row in classified
            if row[4] in wanted and (not policy.version_pattern or fnmatch.fnmatchcase(row[1], policy.version_pattern))
        ]
        cutoff = now - timedelta(days=policy.older_than_days) if policy.older_than_days is not None else None
        kept = policy.keep_newest or 0
        for pk, version, created, keep, _kind in candidates[kept:]:
            if keep or pk == newest_final or pk in doomed:
                continue
            if cutoff is not None and created > cutoff:
                continue
            doomed[pk] = Doomed(project.name, pk, version, describe(policy))
    order = {row[0]: index for index, row in enumerate(classified)}
    return sorted(doomed.values(), key=lambda item: -order[item.release_id])


def with_sizes(doomed: list[Doomed], batch: int = 500) -> list[Doomed]:
    """The same releases with their file count and bytes (in batches: a project may have thousands)."""
    counted: dict[int, tuple[int, int]] = {}
    ids = [item.release_id for item in doomed]
    for start in range(0, len(ids), batch):
        rows = (
            File.objects.filter(release_id__in=ids[start : start + batch])
            .values("release_id")
            .annotate(files=Count("pk"), size=Sum("size"))
            .values_list("release_id", "files", "size")
        )
        counted.update({release_id: (files, size or 0) for release_id, files, size in rows})
    return [
        Doomed(item.project, item.release_id, item.version, item.policy, *counted.get(item.release_id, (0, 0)))
        for item in doomed
    ]


def projects_to_check(index_wide: list[RetentionPolicy]) -> Iterator[Project]:
    """Projects some policy applies to, by name; with index-wide policies on dev and pre-releases
    only, just the projects holding such releases (one query, not one per project)."""
    with_own = Project.objects.filter(retention_policies__isnull=False)
    if not index_wide:
        return with_own.distinct().order_by("normalized_name").iterator()
    if any(policy.post for policy in index_wide):
        return Project.objects.order_by("normalized_name").iterator()
    holding = Q(releases__is_prerelease=True) | Q(retention_policies__isnull=False)
    return Project.objects.filter(holding).distinct().order_by("normalized_name").iterator()


def index_wide_policies() -> list[RetentionPolicy]:
    return list(RetentionPolicy.objects.filter(project__isnull=True))
