"""Role writes: who may upload to and manage a project."""

from __future__ import annotations

from packages_app.models import Project, Role, RoleName
from packages_app.services import journal
from packages_app.services.errors import NotFound, ServiceError


@journal.write_transaction()
def grant_role(project: Project, member, role_name: str, *, user=None) -> Role:
    """Give ``member`` a role on ``project``, replacing any role they had."""
    if role_name not in RoleName.values:
        raise ServiceError(f"Unknown role '{role_name}'; use Owner or Maintainer.")
    role, _ = Role.objects.update_or_create(project=project, user=member, defaults={"role_name": role_name})
    journal.record(f"add {role_name} {member.get_username()}", kind=journal.ROLE_GRANTED, project=project, user=user)
    return role


@journal.write_transaction()
def revoke_role(project: Project, member, *, user=None) -> None:
    role = Role.objects.filter(project=project, user=member).first()
    if role is None:
        raise NotFound(f"{member.get_username()} has no role on {project.name}.")
    role.delete()
    journal.record(
        f"remove {role.role_name} {member.get_username()}", kind=journal.ROLE_REVOKED, project=project, user=user
    )
