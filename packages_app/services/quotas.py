"""Storage quotas set: a project's own limit, and a team's limit over the projects it owns; and the
recount of the running project sizes they are checked against."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from packages_app.models import File, Project, TeamQuota
from packages_app.services import journal
from packages_app.services.errors import ServiceError
from packages_app.sizes import human_size


def _checked(limit: int | None) -> int | None:
    if limit is not None and limit < 0:
        raise ServiceError("A quota is a size in bytes: 0 or more.")
    return limit


@journal.write_transaction()
def set_project_quota(project: Project, limit: int | None, *, user=None) -> Project:
    """The project's own limit; None: the index's ``MAX_PROJECT_SIZE`` again."""
    project = Project.objects.get(pk=project.pk)
    project.quota = _checked(limit)
    project.save(update_fields=["quota"])
    shown = human_size(limit) if limit is not None else "the index's default"
    # Journaled without a project, like tokens: a quota changes no page.
    journal.record(f"set quota of project {project.name} to {shown}", kind=journal.QUOTA_SET, user=user)
    return project


@journal.write_transaction()
def set_team_quota(team, limit: int | None, *, user=None) -> TeamQuota | None:
    """The team's limit over every project it is an Owner of; None removes it."""
    if limit is None:
        TeamQuota.objects.filter(team=team).delete()
        journal.record(f"remove quota of team {team.name}", kind=journal.QUOTA_SET, user=user)
        return None
    quota, _ = TeamQuota.objects.update_or_create(team=team, defaults={"limit": _checked(limit)})
    journal.record(f"set quota of team {team.name} to {human_size(limit)}", kind=journal.QUOTA_SET, user=user)
    return quota


@dataclass(frozen=True)
class SizeDrift:
    """A project whose running ``total_size`` differs from the sum of its files' sizes."""

    name: str
    kept: int
    summed: int


def recount_project_sizes(*, repair: bool) -> list[SizeDrift]:
    """Every project whose ``total_size`` has drifted from the sum of its files (a file written by
    code older than migration 0018 during a rolling upgrade, a hand edit), set right if ``repair``.

    Under the write lock, so no upload or delete moves a total between the sum and the fix;
    one grouped read of the sizes, then an update per drifted project only.
    """
    with journal.write_transaction():
        summed = dict(
            File.objects.order_by()
            .values("release__project")
            .annotate(total=Sum("size"))
            .values_list("release__project", "total")
        )
        drifted = [
            (pk, SizeDrift(name, kept, summed.get(pk) or 0))
            for pk, name, kept in Project.objects.order_by("normalized_name").values_list("pk", "name", "total_size")
            if kept != (summed.get(pk) or 0)
        ]
        if repair:
            for pk, drift in drifted:
                Project.objects.filter(pk=pk).update(total_size=drift.summed)
    return [drift for _, drift in drifted]
