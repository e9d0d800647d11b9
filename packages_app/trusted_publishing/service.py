"""Trusted publishers added, found for a verified OIDC token, and upload tokens minted for them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from packages_app import namespaces, naming, tokens
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
        # PEP 752: the publisher creates the project for its Owner-to-be, who must be able to.
        conflict = namespaces.creation_refusal(pending_owner, normalized)
        if conflict:
            raise Conflict(conflict)
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
    """Remove the publisher; every upload token minted with it goes too (they stop working at once),
    even one that also served another project's publisher: a removal must not wait 15 minutes."""
    publisher = TrustedPublisher.objects.select_related("project").get(pk=publisher.pk)
    minted = ApiToken.objects.filter(Q(trusted_publisher=publisher) | Q(publishers=publisher)).distinct()
    key_ids = sorted(minted.values_list("key_id", flat=True))
    action = f"remove trusted publisher {publisher.description} ({publisher.issuer}) of {publisher.project_name}"
    if key_ids:
        action += f", and its tokens {', '.join(key_ids)}"
        ApiToken.objects.filter(key_id__in=key_ids).delete()
    publisher.delete()
    journal.record(action, kind=journal.TRUSTED_PUBLISHER_REMOVED, user=user)


def find_publishers(claims: dict) -> list[TrustedPublisher]:
    """Every publisher whose every rule this verified token meets; raises :class:`OidcError` for none.

    One workflow may publish several projects, each naming it: the token serves them all.
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
    matched: list[TrustedPublisher] = []
    errors: list[tuple[str, str]] = []
    for publisher in candidates:
        missing = claim_rules.mismatches(publisher.kind, publisher.issuer, publisher.claims, claims)
        if missing:
            errors.extend(("claim-mismatch", str(mismatch)) for mismatch in missing)
        else:
            matched.append(publisher)
    if matched:
        return matched
    raise OidcError(
        "invalid-publisher",
        f"A trusted publisher for this token's workload exists, but the token does not meet it: {errors[0][1]}.",
        errors=errors[1:],
    )


def _still_pending_or_existing(publishers: list[TrustedPublisher]) -> list[TrustedPublisher]:
    """Drop pending publishers whose project someone else created meanwhile; 409 when none is left."""
    taken = {
        publisher.pending_project_name
        for publisher in publishers
        if publisher.project is None and Project.objects.by_name(publisher.pending_project_name).exists()
    }
    usable = [
        publisher
        for publisher in publishers
        if publisher.project is not None or publisher.pending_project_name not in taken
    ]
    if usable:
        return usable
    name = sorted(taken)[0]
    raise OidcError(
        "invalid-publisher",
        f"The pending publisher may create project '{name}', but that project "
        "was created meanwhile by someone else: ask its Owners to add the publisher.",
        status=409,
    )


@journal.write_transaction()
def mint(claims: dict) -> tuple[ApiToken, str, TrustedPublisher]:
    """An upload token for the publishers this verified token proves, its plaintext, the first publisher.

    The token's ``jti`` is spent in the same transaction: a refused exchange does not spend it.
    """
    publishers = _still_pending_or_existing(find_publishers(claims))
    first = publishers[0]
    use_once(claims)
    new = tokens.generate()
    expires = timezone.now() + timedelta(minutes=settings.TRUSTED_PUBLISHING_TOKEN_MINUTES)
    token = ApiToken.objects.create(
        user=None,
        trusted_publisher=first,
        name=f"trusted publisher: {first.description}"[:255],
        key_id=new.key_id,
        secret_hash=new.secret_hash,
        expires=expires,
        limited_to_projects=True,
    )
    token.publishers.set(publishers)
    token.projects.set([publisher.project for publisher in publishers if publisher.project is not None])
    required = sorted({name for publisher in publishers for name in publisher.claims})
    matched = {name: claims.get(name) for name in (*required, *_AUDITED) if claims.get(name) is not None}
    shown = ", ".join(f"{name}={value}" for name, value in matched.items())
    names = ", ".join(sorted(publisher.project_name for publisher in publishers))
    journal.record(
        f"create token {token.key_id} for trusted publisher {first.description} of {names}, "
        f"expiring {expires.isoformat(timespec='seconds')}; token claims: {shown}",
        kind=journal.TOKEN_CREATED,
    )
    return token, new.plaintext, first


def acting_publisher(token: ApiToken, name: str) -> TrustedPublisher | None:
    """Which of the token's publishers an upload of project ``name`` acts as: the one of that
    project, or the pending one that may create it; None when the token serves no such project."""
    normalized = naming.normalize_name(name)
    for publisher in token.publishers.select_related("project").order_by("pk"):
        if publisher.project is not None and publisher.project.normalized_name == normalized:
            return publisher
        if publisher.project is None and publisher.pending_project_name == normalized:
            return publisher
    return None


def adopt(publisher_id: int, project: Project) -> None:
    """The pending publisher's first upload created ``project``: the publisher belongs to it now.

    Runs in the upload's write transaction, just after the project is created.
    """
    TrustedPublisher.objects.filter(pk=publisher_id, project__isnull=True).update(
        project=project, pending_project_name=""
    )
    for token in ApiToken.objects.filter(publishers=publisher_id):
        token.projects.add(project)
