"""Storage quotas set: a project's own limit, and a team's limit over the projects it owns."""

from __future__ import annotations

from packages_app.models import Project, TeamQuota
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
