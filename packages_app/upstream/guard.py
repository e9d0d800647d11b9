"""Which names may be taken from upstream: the dependency-confusion guard.

A name that exists locally is never asked for upstream (the views look locally first and
stop there); this module holds the other rules: blocked prefixes (a company's own
namespace, before any of its projects exists here), PEP 752 namespaces granted here (one
query), and the optional allow-list. Names are PEP 503 normalised on both sides.
"""

from __future__ import annotations

from django.conf import settings

from packages_app import namespaces
from packages_app.models import NamespaceGrant
from packages_app.naming import normalize_name


def _normalised(names: list[str]) -> list[str]:
    return [normalize_name(name) for name in names if name.strip()]


def blocked_prefix(normalized: str) -> str | None:
    """The blocked prefix ``normalized`` falls under: the prefix itself or ``<prefix>-*``."""
    for prefix in _normalised(settings.UPSTREAM_BLOCKED_PREFIXES):
        if normalized == prefix or normalized.startswith(prefix + "-"):
            return prefix
    return None


def granted_namespace(normalized: str, granted: frozenset[str] | None = None) -> str | None:
    """The outermost namespace granted here that covers ``normalized`` (``granted``: every active
    namespace, when the caller has read them; else one query)."""
    candidates = namespaces.prefixes(normalized)
    if granted is None:
        found = NamespaceGrant.objects.filter(revoked__isnull=True, namespace__in=candidates)
        granted = frozenset(found.values_list("namespace", flat=True))
    return next((prefix for prefix in candidates if prefix in granted), None)


def refusal(normalized: str, granted: frozenset[str] | None = None) -> str | None:
    """Why ``normalized`` is never taken from upstream, or None when it may be."""
    prefix = blocked_prefix(normalized)
    if prefix is not None:
        return (
            f"'{normalized}' is in the blocked namespace '{prefix}' (UPSTREAM_BLOCKED_PREFIXES): "
            "it is never taken from the upstream index."
        )
    namespace = granted_namespace(normalized, granted)
    if namespace is not None:
        return (
            f"'{normalized}' is in the namespace '{namespace}' granted on this index (PEP 752): "
            "it is never taken from the upstream index."
        )
    allowed = _normalised(settings.UPSTREAM_ALLOWED_PROJECTS)
    if allowed and normalized not in allowed:
        return f"'{normalized}' is not in UPSTREAM_ALLOWED_PROJECTS: it is not taken from the upstream index."
    return None
