"""Role writes: who may upload to, manage or (for a restricted project) read a project.

A role's holder is a user or a team (a Django ``Group``); every function takes either.
"""

from __future__ import annotations

from django.contrib.auth.models import Group

from packages_app.models import Project, Role, RoleName
from packages_app.services import journal
from packages_app.services.errors import Conflict, NotFound, ServiceError


def holder_of(member) -> dict:
    """The filter naming ``member``'s roles: a team's or a user's."""
    return {"team": member} if isinstance(member, Group) else {"user": member}


def holder_name(member) -> str:
    return f"team:{member.name}" if isinstance(member, Group) else member.get_username()


def _refuse_to_leave_no_owner(role: Role | None, project: Project, member) -> None:
    """A project keeps an Owner once it has one (PyPI refuses the same): only Owners
    manage a project through the API (yank, status), so losing the last one strands it.

    Callers hold the write transaction, which every role change takes first, so no
    concurrent change can remove the other Owner between this check and the write.
    """
    if role is None or role.role_name != RoleName.OWNER:
        return
    if not Role.objects.filter(project=project, role_name=RoleName.OWNER).exclude(pk=role.pk).exists():
        raise Conflict(f"{holder_name(member)} is the last Owner of {project.name}; make another user an Owner first.")


@journal.write_transaction()
def grant_role(project: Project, member, role_name: str, *, user=None) -> Role:
    """Give ``member`` (a user or a team) a role on ``project``, replacing any role it had."""
    if role_name not in RoleName.values:
        raise ServiceError(f"Unknown role '{role_name}'; use Owner, Maintainer or Reader.")
    holder = holder_of(member)
    if role_name != RoleName.OWNER:
        _refuse_to_leave_no_owner(Role.objects.filter(project=project, **holder).first(), project, member)
    role, _ = Role.objects.update_or_create(project=project, **holder, defaults={"role_name": role_name})
    journal.record(f"add {role_name} {holder_name(member)}", kind=journal.ROLE_GRANTED, project=project, user=user)
    return role


@journal.write_transaction()
def revoke_role(project: Project, member, *, user=None) -> None:
    role = Role.objects.filter(project=project, **holder_of(member)).first()
    if role is None:
        raise NotFound(f"{holder_name(member)} has no role on {project.name}.")
    _refuse_to_leave_no_owner(role, project, member)
    role.delete()
    journal.record(
        f"remove {role.role_name} {holder_name(member)}", kind=journal.ROLE_REVOKED, project=project, user=user
    )
