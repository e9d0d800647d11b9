"""Who may read and change what. Every read of a project and every write asks here.

Reads: a :class:`Viewer` is who is reading (anonymous, or an identity) with the restricted
projects it may see; ``Project.objects.visible_to(viewer)`` applies it to a query. Writes:
the ``*_refusal`` functions say why a caller may not, or None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from packages_app import naming
from packages_app.authentication import Identity
from packages_app.models import (
    UPLOADING_ROLES,
    Project,
    ProjectStatus,
    Role,
    RoleName,
    TrustedPublisher,
    Visibility,
)

# The strongest role wins when a user holds several (their own and their teams').
_ROLE_STRENGTH = {RoleName.OWNER: 0, RoleName.MAINTAINER: 1, RoleName.READER: 2}


def role_on(identity: Identity, project: Project) -> str | None:
    """The caller's strongest role on the project, held by them or by one of their teams."""
    held = Role.objects.held_by(identity.user).filter(project=project).values_list("role_name", flat=True)
    return min(held, key=_ROLE_STRENGTH.__getitem__, default=None)


def is_staff_user(user) -> bool:
    return bool(user.is_staff or user.is_superuser)


@dataclass(frozen=True)
class Viewer:
    """Who is reading: ``identity`` None for an anonymous request.

    ``restricted_ids`` are the restricted projects this viewer may read: those it or its
    teams hold a role on (all of them for staff), within its token's project limit.
    """

    identity: Identity | None = None
    restricted_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def authenticated(self) -> bool:
        return self.identity is not None

    def may_read(self, project: Project) -> bool:
        return project.visibility != Visibility.RESTRICTED or project.pk in self.restricted_ids


ANONYMOUS = Viewer()


def viewer_of(identity: Identity | None) -> Viewer:
    """The viewer of this identity, with the restricted projects it may read (one query)."""
    if identity is None:
        return ANONYMOUS
    restricted = Project.objects.filter(visibility=Visibility.RESTRICTED)
    if not is_staff_user(identity.user):
        restricted = restricted.filter(pk__in=Role.objects.held_by(identity.user).values("project"))
    if identity.token is not None and identity.token.limited_to_projects:
        restricted = restricted.filter(pk__in=identity.token_project_ids)
    return Viewer(identity, frozenset(restricted.values_list("pk", flat=True)))


def read_only_refusal(identity: Identity, project_name: str) -> str | None:
    if identity.read_only:
        return f"The given token is read-only: it installs from this index but cannot change project '{project_name}'."
    return None


def upload_refusal(identity: Identity, project: Project | None, name: str) -> str | None:
    """Why this caller may not upload to the project (None when they may).

    ``project`` is None for a project that does not exist yet.
    """
    refusal = read_only_refusal(identity, project.name if project is not None else name)
    if refusal is not None:
        return refusal
    if identity.publisher is not None:
        return _publisher_upload_refusal(identity, project, name)
    if project is None:
        if not identity.token_allows(None):
            return f"The given token isn't allowed to create the new project '{name}'."
        if settings.PROJECT_CREATION == "staff" and not identity.user.is_staff:
            return f"Only staff may create new projects on this index; ask an administrator to create '{name}'."
        return None
    if not identity.token_allows(project):
        return f"The given token isn't allowed to upload to project '{project.name}'."
    if not identity.user.is_superuser and role_on(identity, project) not in UPLOADING_ROLES:
        return f"The user '{identity.username}' isn't allowed to upload to project '{project.name}'."
    if not project.accepts_uploads:
        return f"Project '{project.name}' is {project.status} and accepts no new uploads."
    return None


def _minted_for(identity: Identity) -> str:
    names = sorted(
        name or pending
        for name, pending in identity.token.publishers.values_list("project__name", "pending_project_name")
    )
    return f"The given token was minted by trusted publishing for project '{', '.join(names)}'"


def _publisher_upload_refusal(identity: Identity, project: Project | None, name: str) -> str | None:
    """A trusted publisher's token uploads to its publishers' projects, or creates their pending ones.

    ``identity.publisher`` is the token's publisher for this project when it has one.
    """
    publisher = identity.publisher
    # Read again: a concurrent upload with the same token may have just created the pending project.
    project_id = (
        TrustedPublisher.objects.filter(pk=publisher.pk, minted_tokens=identity.token)
        .values_list("project_id", flat=True)
        .first()
    )
    if project is None:
        if project_id is None and publisher.pending_project_name == naming.normalize_name(name):
            return None
        return f"{_minted_for(identity)}; it cannot create project '{name}'."
    if project.pk != project_id:
        return f"{_minted_for(identity)}; it cannot upload to project '{project.name}'."
    if not project.accepts_uploads:
        return f"Project '{project.name}' is {project.status} and accepts no new uploads."
    return None


def manage_refusal(identity: Identity, project: Project) -> str | None:
    """Why this caller may not manage the project (roles, status, visibility, publishers,
    retention, webhooks); None when they may.

    As on PyPI, managing is for Owners; Maintainers upload, and yank (``yank_refusal``).
    """
    return _role_refusal(identity, project, (RoleName.OWNER,), "manage", "an owner")


def yank_refusal(identity: Identity, project: Project) -> str | None:
    """Why this caller may not yank or unyank the project's releases; None when they may.

    Owners and Maintainers: whoever may publish a release may take it back from installers.
    """
    return _role_refusal(identity, project, UPLOADING_ROLES, "yank releases of", "an owner or maintainer")


def _role_refusal(identity: Identity, project: Project, allowed, verb: str, holder: str) -> str | None:
    refusal = read_only_refusal(identity, project.name)
    if refusal is not None:
        return refusal
    if identity.publisher is not None:
        return f"A token minted by trusted publishing only uploads; it cannot {verb} project '{project.name}'."
    if not identity.token_allows(project):
        return f"The given token isn't allowed to {verb} project '{project.name}'."
    if identity.user.is_superuser or role_on(identity, project) in allowed:
        return None
    return f"The user '{identity.username}' isn't {holder} of project '{project.name}'."


def is_staff(identity: Identity) -> bool:
    return is_staff_user(identity.user)


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
