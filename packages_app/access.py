"""Who may change what. Every write path asks here before it writes."""

from __future__ import annotations

from django.conf import settings

from packages_app.authentication import Identity
from packages_app.models import Project, ProjectStatus, Role, RoleName


def role_on(identity: Identity, project: Project) -> str | None:
    return Role.objects.filter(project=project, user=identity.user).values_list("role_name", flat=True).first()


def upload_refusal(identity: Identity, project: Project | None, name: str) -> str | None:
    """Why this caller may not upload to the project (None when they may).

    ``project`` is None for a project that does not exist yet.
    """
    if project is None:
        if not identity.token_allows(None):
            return f"The given token isn't allowed to create the new project '{name}'."
        if settings.PROJECT_CREATION == "staff" and not identity.user.is_staff:
            return f"Only staff may create new projects on this index; ask an administrator to create '{name}'."
        return None
    if not identity.token_allows(project):
        return f"The given token isn't allowed to upload to project '{project.name}'."
    if not identity.user.is_superuser and role_on(identity, project) is None:
        return f"The user '{identity.username}' isn't allowed to upload to project '{project.name}'."
    if not project.accepts_uploads:
        return f"Project '{project.name}' is {project.status} and accepts no new uploads."
    return None


def manage_refusal(identity: Identity, project: Project) -> str | None:
    """Why this caller may not manage the project (yank, set its status); None when they may.

    As on PyPI, managing is for Owners; Maintainers may only upload.
    """
    if not identity.token_allows(project):
        return f"The given token isn't allowed to manage project '{project.name}'."
    if identity.user.is_superuser or role_on(identity, project) == RoleName.OWNER:
        return None
    return f"The user '{identity.username}' isn't an owner of project '{project.name}'."


def is_staff(identity: Identity) -> bool:
    return identity.user.is_staff or identity.user.is_superuser


def status_refusal(identity: Identity, project: Project, status: str) -> str | None:
    """Why this caller may not give the project this status; None when they may.

    A quarantine is the operators' answer to a project reported as harmful, so only
    staff set or lift one, and its owners cannot change the status while it lasts.
    """
    refusal = manage_refusal(identity, project)
    if refusal is not None or is_staff(identity):
        return refusal
    if project.status == ProjectStatus.QUARANTINED:
        return f"Project '{project.name}' is quarantined; only staff may change its status. Ask an administrator."
    if status == ProjectStatus.QUARANTINED:
        return f"Only staff may quarantine a project; ask an administrator to quarantine '{project.name}'."
    return None
