"""Role writes: who may upload to and manage a project."""

from __future__ import annotations

from packages_app.models import Project, Role, RoleName
from packages_app.services import journal
from packages_app.services.errors import Conflict, NotFound, ServiceError


def _refuse_to_leave_no_owner(role: Role | None, project: Project, member) -> None:
    """A project keeps an Owner once it has one (PyPI refuses the same): only Owners
    manage a project through the API (yank, status), so losing the last one strands it.

    Callers hold the write transaction, which every role change takes first, so no
    concurrent change can remove the other Owner between this check and the write.
    """
    if role is None or role.role_name != RoleName.OWNER:
        return
    if not Role.objects.filter(project=project, role_name=RoleName.OWNER).exclude(pk=role.pk).exists():
        raise Conflict(
            f"{member.get_username()} is the last Owner of {project.name}; make another user an Owner first."
        )


@journal.write_transaction()
def grant_role(project: Project, member, role_name: str, *, user=None) -> Role:
    """Give ``member`` a role on ``project``, replacing any role they had."""
    if role_name not in RoleName.values:
        raise ServiceError(f"Unknown role '{role_name}'; use Owner or Maintainer.")
    if role_name != RoleName.OWNER:
        _refuse_to_leave_no_owner(Role.objects.filter(project=project, user=member).first(), project, member)
    role, _ = Role.objects.update_or_create(project=project, user=member, defaults={"role_name": role_name})
    journal.record(f"add {role_name} {member.get_username()}", kind=journal.ROLE_GRANTED, project=project, user=user)
    return role


@journal.write_transaction()
def revoke_role(project: Project, member, *, user=None) -> None:
    role = Role.objects.filter(project=project, user=member).first()
    if role is None:
        raise NotFound(f"{member.get_username()} has no role on {project.name}.")
    _refuse_to_leave_no_owner(role, project, member)
    role.delete()
    journal.record(
        f"remove {role.role_name} {member.get_username()}", kind=journal.ROLE_REVOKED, project=project, user=user
    )
