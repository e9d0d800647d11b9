"""Namespace writes (PEP 752): grant a namespace to a user or a team, revoke it.

Each change is journaled: one entry for the namespace, and one per project it covers,
which moves that project's serial, so its stored pages (whose ``namespaces`` key changes)
are built again and mirrors see the change. A grant is revoked, never deleted: the
snapshot views show the grants of any past moment.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models import Q
from django.utils import timezone

from packages_app import namespaces, naming
from packages_app.models import NamespaceGrant, Project
from packages_app.services import journal
from packages_app.services.errors import Conflict, NotFound, ServiceError
from packages_app.services.roles import holder_name, holder_of


def normalized_namespace(namespace: str) -> str:
    """PEP 752: a namespace is a valid project name, normalised."""
    if not naming.is_valid_project_name(namespace):
        raise ServiceError(
            f"'{namespace}' is not a valid namespace: it must be a valid project name "
            "(letters, digits, '.', '_', '-', starting and ending with a letter or digit)."
        )
    return naming.normalize_name(namespace)


@journal.write_transaction()
def grant_namespace(namespace: str, member, *, open: bool = False, user=None) -> NamespaceGrant:
    """Grant ``namespace`` to ``member`` (a user or a team)."""
    normalized = normalized_namespace(namespace)
    team = member if isinstance(member, Group) else None
    refusal = namespaces.grant_refusal(normalized, user=None if team else member, team=team)
    if refusal is not None:
        raise Conflict(refusal)
    grant = NamespaceGrant.objects.create(namespace=normalized, open=open, **holder_of(member))
    action = f"grant {'open ' if open else ''}namespace {normalized} to {holder_name(member)}"
    grant.serial = _journal(grant, action, journal.NAMESPACE_GRANTED, user)
    grant.save(update_fields=["serial"])
    return grant


@journal.write_transaction()
def revoke_namespace(namespace: str, *, user=None) -> NamespaceGrant:
    normalized = naming.normalize_name(namespace)
    grant = NamespaceGrant.objects.filter(namespace=normalized, revoked__isnull=True).first()
    if grant is None:
        raise NotFound(f"The namespace '{normalized}' is not granted.")
    grant.revoked = timezone.now()
    grant.serial = _journal(
        grant, f"revoke namespace {normalized} of {grant.holder_name}", journal.NAMESPACE_REVOKED, user
    )
    grant.save(update_fields=["revoked", "serial"])
    return grant


def _journal(grant: NamespaceGrant, action: str, kind: str, user) -> int:
    """The namespace's entry, then one per project it covers: the namespace entry's serial."""
    exact = Project.objects.filter(normalized_name=grant.namespace).first()
    entry = journal.record(action, kind=kind, project=exact, name=grant.namespace, user=user)
    inside = Project.objects.filter(normalized_name__startswith=grant.namespace + "-").order_by("id")
    for project in inside.filter(~Q(pk=exact.pk) if exact else Q()):
        journal.record(action, kind=kind, project=project, user=user)
    return entry.id
