"""Project writes: create, change status (PEP 792), delete.

Deleting a project revokes the limited tokens it leaves without projects.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError

from packages_app import naming
from packages_app.models import ApiToken, File, Project, ProjectStatus, Visibility
from packages_app.services import journal
from packages_app.services.errors import Conflict, ServiceError
from packages_app.services.tokens import revoke_tokens_left_without_projects


def create_project(name: str, *, user=None, visibility: str | None = None) -> Project:
    """Create a project; a name that normalises like an existing one is a Conflict.

    ``visibility``: ``NEW_PROJECT_VISIBILITY`` unless given.
    """
    if not naming.is_valid_project_name(name):
        raise ServiceError(f"'{name}' is not a valid project name.")
    visibility = visibility or settings.NEW_PROJECT_VISIBILITY
    if visibility not in Visibility.values:
        raise ServiceError(f"Unknown visibility '{visibility}'; use one of {', '.join(Visibility.values)}.")
    try:
        with journal.write_transaction():
            project = Project.objects.create(
                name=name, normalized_name=naming.normalize_name(name), visibility=visibility
            )
            journal.record("create", kind=journal.PROJECT_CREATED, project=project, user=user)
    except IntegrityError as exc:
        # Only a real clash is a Conflict; any other constraint failing is a fault, and
        # "conflicts" would tell the client that retrying is pointless.
        if Project.objects.by_name(name).exists():
            raise Conflict(f"The name '{name}' conflicts with an existing project.") from exc
        raise
    return project


def get_or_create_project(name: str, *, user=None) -> tuple[Project, bool]:
    """The project with this normalised name, creating it if needed.

    Safe against a concurrent creator: whoever loses the unique-constraint race
    reads the winner's row.
    """
    project = Project.objects.by_name(name).first()
    if project is not None:
        return project, False
    try:
        return create_project(name, user=user), True
    except Conflict:
        return Project.objects.by_name(name).get(), False


def respell(project: Project, name: str) -> Project:
    """Make ``name``, another spelling of the project's name, its display name (the newest upload's, as on PyPI).

    Not journaled on its own: only an upload respells, inside its write transaction, and
    the upload's own entry carries the new spelling.
    """
    if naming.normalize_name(name) != project.normalized_name:
        raise ServiceError(f"'{name}' is not a spelling of the project name '{project.name}'.")
    Project.objects.filter(pk=project.pk).update(name=name)
    project.name = name
    return project


@journal.write_transaction()
def set_status(
    project: Project, status: str, reason: str = "", *, user=None, expected_status: str | None = None
) -> Project:
    """Set a project's status.

    ``expected_status`` is the status a permission check was made on: if the project
    has moved on since (staff quarantined it meanwhile), nothing changes.
    """
    if status not in ProjectStatus.values:
        raise ServiceError(f"Unknown project status '{status}'; use one of {', '.join(ProjectStatus.values)}.")
    project = Project.objects.get(pk=project.pk)
    if expected_status is not None and project.status != expected_status:
        raise Conflict(
            f"Project '{project.name}' changed to {project.status} meanwhile; nothing was changed. "
            f"Reload it and try again."
        )
    project.status = status
    project.status_reason = reason
    project.save(update_fields=["status", "status_reason"])
    journal.record(f"set status {status}", kind=journal.PROJECT_STATUS_SET, project=project, user=user)
    return project


@journal.write_transaction()
def set_visibility(project: Project, visibility: str, *, user=None) -> Project:
    """Open a project to everyone who reads the index, or restrict it to its role holders.

    Journaled, so its serial moves and every stored page that lists it is built again.
    """
    if visibility not in Visibility.values:
        raise ServiceError(f"Unknown visibility '{visibility}'; use one of {', '.join(Visibility.values)}.")
    project = Project.objects.get(pk=project.pk)
    if project.visibility != visibility:
        project.visibility = visibility
        project.save(update_fields=["visibility"])
        journal.record(f"set visibility {visibility}", kind=journal.PROJECT_VISIBILITY_SET, project=project, user=user)
    return project


@journal.write_transaction()
def delete_project(project: Project, *, user=None) -> None:
    """Delete a project with its releases and files; filenames stay registered."""
    from packages_app.services.files import schedule_storage_delete, stored_paths

    paths = stored_paths(File.objects.filter(release__project=project))
    limited_tokens = list(
        ApiToken.objects.filter(projects=project, limited_to_projects=True).values_list("pk", flat=True)
    )
    name = project.name
    project.delete()
    journal.record("remove project", kind=journal.PROJECT_DELETED, name=name, user=user)
    revoke_tokens_left_without_projects(limited_tokens, user=user)
    schedule_storage_delete(paths)
