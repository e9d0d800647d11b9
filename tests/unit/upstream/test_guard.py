"""packages_app/upstream/guard.py: which names may come from upstream."""

from __future__ import annotations

import pytest

from packages_app.upstream import guard


@pytest.mark.parametrize(
    ("blocked", "allowed", "name", "refused_by"),
    [
        ([], [], "requests", None),
        (["acme"], [], "acme", "UPSTREAM_BLOCKED_PREFIXES"),
        (["acme"], [], "acme-billing", "UPSTREAM_BLOCKED_PREFIXES"),
        (["Acme_Corp"], [], "acme-corp-tools", "UPSTREAM_BLOCKED_PREFIXES"),
        (["acme"], [], "acmetools", None),
        (["acme"], [], "not-acme", None),
        ([], ["Requests"], "requests", None),
        ([], ["requests"], "urllib3", "UPSTREAM_ALLOWED_PROJECTS"),
        (["acme"], ["acme-billing"], "acme-billing", "UPSTREAM_BLOCKED_PREFIXES"),  # blocked beats allowed
    ],
)
@pytest.mark.django_db  # the namespaces granted here are read too
def test_refusal(settings, blocked, allowed, name, refused_by):
    settings.UPSTREAM_BLOCKED_PREFIXES = blocked
    settings.UPSTREAM_ALLOWED_PROJECTS = allowed
    refusal = guard.refusal(name)
    if refused_by is None:
        assert refusal is None
    else:
        assert refused_by in refusal
        assert name in refusal
