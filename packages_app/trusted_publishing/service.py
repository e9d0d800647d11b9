"""Trusted publishers added, found for a verified OIDC token, and upload tokens minted for them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from packages_app import naming, tokens
from packages_app.models import ApiToken, Project, PublisherKind, TrustedPublisher
from packages_app.services import journal
from packages_app.services.errors import Conflict, ServiceError
from packages_app.trusted_publishing import claims as claim_rules
from packages_app.trusted_publishing.verify import OidcError, allowed_issuers, use_once

# Token claims worth keeping in the journal beside those the publisher required.
_AUDITED = ("sub", "ref", "sha", "run_id", "pipeline_id", "job_workflow_ref", "workflow_ref", "environment")


@journal.write_transaction()
def add_publisher(
    kind: str,
    issuer: str,
    claims: dict[str, str],
    *,
    project: Project | None = None,
    pending_name: str = "",
    pending_owner=None,
    user=None,
) -> TrustedPublisher:
    """Add a publisher for ``project``, or a pending one that may create ``pending_name``."""
    issuer = issuer.rstrip("/")
    if issuer not in allowed_issuers():
        raise ServiceError(
            f"The issuer {issuer} is not allowed on this index: list it in TRUSTED_PUBLISHING_ISSUERS first."
        )
    try:
        claims = claim_rules.normalize(kind, claims)
    except claim_rules.InvalidPublisher as exc:
        raise ServiceError(str(exc)) from exc
    lookup = claim_rules.lookup_value(kind, claims) or ""
    if project is None:
        normalized = naming.normalize_name(pending_name)
        if not normalized or pending_owner is None:
            raise ServiceError("A pending publisher needs the project's name and the user to make its Owner.")
        if Project.objects.by_name(normalized).exists():
            raise Conflict(f"Project '{normalized}' exists already: add the publisher to it, not a pending one.")
        pending_name = normalized
    duplicate = TrustedPublisher.objects.filter(
        kind=kind, issuer=issuer, lookup=lookup, claims=claims, project=project, pending_project_name=pending_name
    )
    if duplicate.exists():
        raise Conflict("This trusted publisher exists already.")
    publisher = TrustedPublisher.objects.create(
        project=project,
        pending_project_name="" if project is not None else pending_name,
        pending_owner=pending_owner if project is None else None,
        kind=kind,
        issuer=issuer,
        claims=claims,
        lookup=lookup,
    )
    where = project.name if project is not None else f"pending project {pending_name}"
    journal.record(
        f"add trusted publisher {publisher.description} ({issuer}) for {where}",
        kind=journal.TRUSTED_PUBLISHER_ADDED,
        user=user,
    )
    return publisher


@journal.write_transaction()
def remove_publisher(publisher: TrustedPublisher, *, user=None) -> None:
    """Remove the publisher; the upload tokens minted for it go with it (they stop working at once)."""
    publisher = TrustedPublisher.objects.select_related("project").get(pk=publisher.pk)
    minted = list(ApiToken.objects.filter(trusted_publisher=publisher).values_list("key_id", flat=True))
    action = f"remove trusted publisher {publisher.description} ({publisher.issuer}) of {publisher.project_name}"
    if minted:
        action += f", and its tokens {', '.join(minted)}"
    publisher.delete()
    journal.record(action, kind=journal.TRUSTED_PUBLISHER_REMOVED, user=user)


def find_publisher(claims: dict) -> TrustedPublisher:
    """The publisher whose every rule this verified token meets; raises :class:`OidcError`.

    Only publishers found by the token's own repository (project path, ``sub``) are compared,
    so a mismatch reported is about the workload the token proves, never another's.
    """
    issuer = claims["iss"].rstrip("/")
    candidates: list[TrustedPublisher] = []
    for kind in PublisherKind.values:
        lookup = claim_rules.lookup_value(kind, claims)
        if lookup is not None:
            found = TrustedPublisher.objects.filter(issuer=issuer, kind=kind, lookup=lookup).select_related("project")
            candidates.extend(found.order_by("pk"))
    if not candidates:
        subject = claims.get("repository") or claims.get("project_path") or claims.get("sub")
        raise OidcError(
            "invalid-publisher",
            f"No trusted publisher on this index matches this token (issuer {issuer}, workload {subject!r}): "
            "an Owner of the project adds one first.",
        )
    errors: list[tuple[str, str]] = []
    for publisher in candidates:
        missing = claim_rules.mismatches(publisher.kind, publisher.issuer, publisher.claims, claims)
        if not missing:
            return publisher
        errors.extend(("claim-mismatch", str(mismatch)) for mismatch in missing)
    raise OidcError(
        "invalid-publisher",
        f"A trusted publisher for this token's workload exists, but the token does not meet it: {errors[0][1]}.",
        errors=errors[1:],
    )


@journal.write_transaction()
def mint(claims: dict) -> tuple[ApiToken, str, TrustedPublisher]:
    """An upload token for the publisher this verified token proves, its plaintext, the publisher.

    The token's ``jti`` is spent in the same transaction: a refused exchange does not spend it.
    """
    publisher = find_publisher(claims)
    if publisher.project is None and Project.objects.by_name(publisher.pending_project_name).exists():
        raise OidcError(
            "invalid-publisher",
            f"The pending publisher may create project '{publisher.pending_project_name}', but that project "
            "was created meanwhile by someone else: ask its Owners to add the publisher.",
            status=409,
        )
    use_once(claims)
    new = tokens.generate()
    expires = timezone.now() + timedelta(minutes=settings.TRUSTED_PUBLISHING_TOKEN_MINUTES)
    token = ApiToken.objects.create(
        user=None,
        trusted_publisher=publisher,
        name=f"trusted publisher: {publisher.description}"[:255],
        key_id=new.key_id,
        secret_hash=new.secret_hash,
        expires=expires,
        limited_to_projects=True,
    )
    if publisher.project is not None:
        token.projects.set([publisher.project])
    required = sorted(publisher.claims)
    matched = {name: claims.get(name) for name in (*required, *_AUDITED) if claims.get(name) is not None}
    shown = ", ".join(f"{name}={value}" for name, value in matched.items())
    journal.record(
        f"create token {token.key_id} for trusted publisher {publisher.description} of {publisher.project_name}, "
        f"expiring {expires.isoformat(timespec='seconds')}; token claims: {shown}",
        kind=journal.TOKEN_CREATED,
    )
    return token, new.plaintext, publisher


def adopt(publisher_id: int, project: Project) -> None:
    """The pending publisher's first upload created ``project``: the publisher belongs to it now.

    Runs in the upload's write transaction, just after the project is created.
    """
    TrustedPublisher.objects.filter(pk=publisher_id, project__isnull=True).update(
        project=project, pending_project_name=""
    )
    for token in ApiToken.objects.filter(trusted_publisher_id=publisher_id):
        token.projects.add(project)
