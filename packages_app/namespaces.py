"""PEP 752 namespaces: which grants cover a name, who holds them, and the rules of granting.

A grant of ``acme`` covers the project ``acme`` and every ``acme-*`` (normalised names).
Grants nest: ``acme-data`` may be granted inside ``acme`` (a child namespace), to another
holder. For a name several grants cover, the deepest decides who may create projects in
it. An *open* grant lets anyone who may create projects create them in it: an index policy
(the PEP dropped open namespaces), still a reservation against the upstream index.

Writes (grant, revoke) are in ``services.namespaces``; this module only reads.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Q, QuerySet

from packages_app.models import NamespaceGrant, Project, RoleName


def prefixes(normalized: str) -> list[str]:
    """Every namespace that covers ``normalized``, shortest first: ``a-b-c`` → ``a``, ``a-b``, ``a-b-c``."""
    parts = normalized.split("-")
    return ["-".join(parts[: i + 1]) for i in range(len(parts)) if parts[i]]


def covers(namespace: str, normalized: str) -> bool:
    return normalized == namespace or normalized.startswith(namespace + "-")


def active(at: datetime | None = None) -> QuerySet[NamespaceGrant]:
    """The grants active now, or at the moment ``at``."""
    grants = NamespaceGrant.objects.select_related("user", "team")
    if at is None:
        return grants.filter(revoked__isnull=True)
    return grants.filter(Q(revoked__isnull=True) | Q(revoked__gt=at), created__lte=at)


def covering(normalized: str, at: datetime | None = None) -> list[NamespaceGrant]:
    """The active grants that cover ``normalized``, shortest (outermost) first."""
    grants = active(at).filter(namespace__in=prefixes(normalized))
    return sorted(grants, key=lambda grant: len(grant.namespace))


def holds(grant: NamespaceGrant, user) -> bool:
    """Is ``user`` one of the grant's holders (the user, or a member of the team)?"""
    if user is None or not user.is_authenticated:
        return False
    if grant.user_id is not None:
        return grant.user_id == user.pk
    return user.groups.filter(pk=grant.team_id).exists()


def creation_refusal(user, normalized: str) -> str | None:
    """Why ``user`` may not create the project ``normalized`` (PEP 752: a 409), or None."""
    grants = covering(normalized)
    if not grants:
        return None
    deciding = grants[-1]  # the deepest: a child namespace is its holder's to fill
    if deciding.open or holds(deciding, user):
        return None
    return (
        f"'{normalized}' is in the namespace '{deciding.namespace}', reserved for {deciding.holder_name} "
        f"(PEP 752): only its holders may create projects in it. Ask {deciding.holder_name} or an "
        "administrator, or choose a name outside the namespace."
    )


def project_namespaces(project: Project, at: datetime | None = None) -> list[dict] | None:
    """The project detail's PEP 752 ``namespaces``: None when no grant covers it."""
    grants = covering(project.normalized_name, at)
    if not grants:
        return None
    owners = list(project.roles.filter(role_name=RoleName.OWNER).values_list("user_id", "team_id"))
    return [{"name": grant.namespace, "owned": _owned(grant, owners)} for grant in grants]


def _owned(grant: NamespaceGrant, owners: list[tuple[int | None, int | None]]) -> bool:
    """Is one of the project's Owners (users, teams) one of the grant's holders?"""
    owner_users = {user_id for user_id, _ in owners if user_id is not None}
    owner_teams = {team_id for _, team_id in owners if team_id is not None}
    if grant.user_id is not None:
        return grant.user_id in owner_users
    if grant.team_id in owner_teams:
        return True
    return grant.team.user_set.filter(pk__in=owner_users).exists()


def parent_of(namespace: str, grants: list[str]) -> str | None:
    """The nearest active grant that contains ``namespace`` (``grants``: every active namespace)."""
    granted = set(grants)
    for prefix in reversed(prefixes(namespace)[:-1]):
        if prefix in granted:
            return prefix
    return None


def children_of(namespace: str, grants: list[str]) -> list[str]:
    """The grants whose nearest containing grant is ``namespace`` (its direct children)."""
    return sorted(
        other
        for other in grants
        if other != namespace and covers(namespace, other) and parent_of(other, grants) == namespace
    )


def grant_refusal(namespace: str, user=None, team=None) -> str | None:
    """Why ``namespace`` cannot be granted to ``user`` or ``team`` now (PEP 752's rules), or None."""
    depth = namespace.count("-")
    if depth > settings.NAMESPACE_MAX_DEPTH:
        return (
            f"'{namespace}' has {depth} hyphens; this index grants namespaces of at most "
            f"{settings.NAMESPACE_MAX_DEPTH} (NAMESPACE_MAX_DEPTH)."
        )
    grants = list(active())
    if any(grant.namespace == namespace for grant in grants):
        return f"The namespace '{namespace}' is already granted."
    names = [grant.namespace for grant in grants]
    for grant in grants:
        is_root = parent_of(grant.namespace, names) is None
        # PEP 752: compare with every root grant, a hyphen appended to both.
        if is_root and (grant.namespace + "-").startswith(namespace + "-"):
            same_holder = (user is not None and grant.user_id == user.pk) or (
                team is not None and grant.team_id == team.pk
            )
            if not same_holder:
                return (
                    f"'{namespace}' would overlap the namespace '{grant.namespace}' of {grant.holder_name}: "
                    f"only {grant.holder_name} may be granted it."
                )
    return None
