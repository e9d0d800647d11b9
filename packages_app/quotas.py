"""Storage quotas: how much a project, and a team's projects together, may hold.

A project's limit is its own ``quota``, else ``MAX_PROJECT_SIZE``. A team with a
``TeamQuota`` limits the files of every project it is an Owner of, together. An upload that
would go past either is refused with a 400 naming the limit, what is used and the file's size.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Sum

from packages_app.models import Project, Role, RoleName, TeamQuota
from packages_app.sizes import human_size


@dataclass(frozen=True)
class Usage:
    """What a project or a team holds against its limit."""

    holder: str  # "project 'acme-app'" or "team 'platform'"
    used: int
    limit: int

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.limit if self.limit else 100.0

    def __str__(self) -> str:
        return f"{human_size(self.used)} of {human_size(self.limit)} ({self.percent:.0f}%)"


def project_limit(project: Project) -> int:
    return project.quota if project.quota is not None else settings.MAX_PROJECT_SIZE


def project_usage(project: Project) -> Usage:
    """From the running total the file services keep (``Project.total_size``): no sum over its files."""
    return Usage(f"project '{project.name}'", project.total_size, project_limit(project))


def owning_teams_quotas(project: Project) -> list[TeamQuota]:
    owners = Role.objects.filter(project=project, role_name=RoleName.OWNER, team__isnull=False).values("team")
    return list(TeamQuota.objects.filter(team__in=owners).select_related("team").order_by("team__name"))


def team_usage(quota: TeamQuota) -> Usage:
    owned = Role.objects.filter(team=quota.team, role_name=RoleName.OWNER).values("project")
    used = Project.objects.filter(pk__in=owned).aggregate(total=Sum("total_size"))["total"] or 0
    return Usage(f"team '{quota.team.name}'", used, quota.limit)


def upload_refusal(project: Project, size: int) -> str | None:
    """Why a file of ``size`` bytes may not join ``project`` (None when it may)."""
    usage = project_usage(project)
    if usage.used + size > usage.limit:
        # PyPI's first sentence, which clients and people know; then the figures.
        return (
            f"Project size too large. Limit for project '{project.name}' total size is {human_size(usage.limit)}; "
            f"it holds {human_size(usage.used)} and this file is {human_size(size)}."
        )
    for quota in owning_teams_quotas(project):
        team = team_usage(quota)
        if team.used + size > team.limit:
            return (
                f"Storage quota exceeded for team '{quota.team.name}', an Owner of project '{project.name}': "
                f"its projects hold {human_size(team.used)} of {human_size(team.limit)}, "
                f"and this file is {human_size(size)}."
            )
    return None
