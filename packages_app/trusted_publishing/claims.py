"""What a trusted publisher requires of a CI job's OIDC token, per kind of issuer.

GitHub Actions: ``repository`` (``owner/name``), ``repository_owner_id`` (survives a rename of
the owner, unlike its name), ``workflow`` (the file under ``.github/workflows/``, matched on the
token's ``job_workflow_ref`` or ``workflow_ref``: ``owner/name/.github/workflows/<file>@<ref>``)
and optionally ``environment``. GitLab CI: ``project_path``, ``ci_config_ref_uri`` (the CI file's
path, matched on the token's ``<host>/<project path>//<file>@<ref>``) and optionally
``environment``. Any other issuer: a table of claims that must equal, ``sub`` among them.

A publisher is found by one claim (the repository, the project path, ``sub``): a token is only
ever compared with publishers of the workload it proves, so what a mismatch reports is that
workload's own configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packages_app.models import PublisherKind

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"

REQUIRED: dict[str, tuple[str, ...]] = {
    PublisherKind.GITHUB: ("repository", "repository_owner_id", "workflow"),
    PublisherKind.GITLAB: ("project_path", "ci_config_ref_uri"),
    PublisherKind.GENERIC: ("sub",),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    PublisherKind.GITHUB: ("environment",),
    PublisherKind.GITLAB: ("environment",),
}
_LOOKUP: dict[str, str] = {
    PublisherKind.GITHUB: "repository",
    PublisherKind.GITLAB: "project_path",
    PublisherKind.GENERIC: "sub",
}
_REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+\Z")
_PROJECT_PATH = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+\Z")
_WORKFLOW = re.compile(r"[A-Za-z0-9._-]+\.ya?ml\Z")


class InvalidPublisher(ValueError):
    """A publisher's claims that could never match a token, or that are incomplete."""


@dataclass(frozen=True)
class Mismatch:
    claim: str
    expected: str
    got: object

    def __str__(self) -> str:
        got = "nothing" if self.got is None else repr(self.got)
        return f"claim '{self.claim}': expected {self.expected}, got {got}"


def default_issuer(kind: str) -> str | None:
    defaults: dict[str, str] = {PublisherKind.GITHUB: GITHUB_ISSUER, PublisherKind.GITLAB: GITLAB_ISSUER}
    return defaults.get(kind)


def normalize(kind: str, claims: dict[str, str]) -> dict[str, str]:
    """The claims a publisher of ``kind`` stores, checked; raises :class:`InvalidPublisher`."""
    claims = {name.strip(): str(value).strip() for name, value in claims.items()}
    if kind not in PublisherKind.values:
        raise InvalidPublisher(f"Unknown publisher kind '{kind}'; use github, gitlab or an issuer URL.")
    label = PublisherKind(kind).label
    missing = [name for name in REQUIRED[kind] if not claims.get(name)]
    if missing:
        raise InvalidPublisher(f"A {label} publisher needs the claims: {', '.join(missing)}.")
    if kind == PublisherKind.GENERIC:
        if any(not name or not value for name, value in claims.items()):
            raise InvalidPublisher("Every claim needs a name and a value.")
        return claims
    unknown = sorted(set(claims) - set(REQUIRED[kind]) - set(OPTIONAL[kind]))
    if unknown:
        allowed = ", ".join(REQUIRED[kind] + OPTIONAL[kind])
        raise InvalidPublisher(f"Unknown claims for {label}: {', '.join(unknown)} (use {allowed}).")
    if kind == PublisherKind.GITHUB:
        if not _REPOSITORY.match(claims["repository"]):
            raise InvalidPublisher(f"repository {claims['repository']!r} is not 'owner/name'.")
        if not claims["repository_owner_id"].isdigit():
            raise InvalidPublisher("repository_owner_id is the owner's numeric id (the API's owner.id).")
        claims["workflow"] = claims["workflow"].removeprefix(".github/workflows/")
        if not _WORKFLOW.match(claims["workflow"]):
            raise InvalidPublisher(f"workflow {claims['workflow']!r} is not a file name such as release.yml.")
    else:
        if not _PROJECT_PATH.match(claims["project_path"]):
            raise InvalidPublisher(f"project_path {claims['project_path']!r} is not 'group/project'.")
        # A whole URI (host/group/project//file@ref) or only the file's path: keep the path.
        path = claims["ci_config_ref_uri"].partition("//")[2] or claims["ci_config_ref_uri"]
        path = path.rpartition("@")[0] if "@" in path else path
        if not path or path.startswith("/"):
            raise InvalidPublisher("ci_config_ref_uri is the CI file's path in the project, such as .gitlab-ci.yml.")
        claims["ci_config_ref_uri"] = path
    return {name: claims[name] for name in REQUIRED[kind] + OPTIONAL[kind] if claims.get(name)}


def lookup_value(kind: str, claims: dict) -> str | None:
    """The value that finds publishers of ``kind`` (the publisher's, or a token's)."""
    value = claims.get(_LOOKUP[kind])
    if not isinstance(value, str) or not value:
        return None
    return value if kind == PublisherKind.GENERIC else value.lower()


def _host_and_path(issuer: str) -> str:
    return issuer.split("://", 1)[-1].rstrip("/")


def mismatches(kind: str, issuer: str, expected: dict[str, str], token: dict) -> list[Mismatch]:
    """Every required claim the token does not carry as the publisher says; empty when it matches."""
    found: list[Mismatch] = []
    if kind == PublisherKind.GENERIC:
        for name, value in expected.items():
            got = token.get(name)
            if got is None or str(got) != value:
                found.append(Mismatch(name, repr(value), got))
        return found
    if kind == PublisherKind.GITHUB:
        repository = expected["repository"]
        if str(token.get("repository", "")).lower() != repository.lower():
            found.append(Mismatch("repository", repr(repository), token.get("repository")))
        if str(token.get("repository_owner_id", "")) != expected["repository_owner_id"]:
            found.append(
                Mismatch("repository_owner_id", repr(expected["repository_owner_id"]), token.get("repository_owner_id"))
            )
        prefix = f"{repository}/.github/workflows/{expected['workflow']}@".lower()
        refs = [token.get(name) for name in ("job_workflow_ref", "workflow_ref")]
        if not any(isinstance(ref, str) and ref.lower().startswith(prefix) for ref in refs):
            found.append(Mismatch("job_workflow_ref", f"'{prefix}<ref>'", refs[0] if refs[0] is not None else refs[1]))
        environment = expected.get("environment")
        if environment and str(token.get("environment", "")).lower() != environment.lower():
            found.append(Mismatch("environment", repr(environment), token.get("environment")))
        return found
    project_path = expected["project_path"]
    if str(token.get("project_path", "")).lower() != project_path.lower():
        found.append(Mismatch("project_path", repr(project_path), token.get("project_path")))
    prefix = f"{_host_and_path(issuer)}/{project_path}//{expected['ci_config_ref_uri']}@"
    got = token.get("ci_config_ref_uri")
    if not (isinstance(got, str) and got.lower().startswith(prefix.lower())):
        found.append(Mismatch("ci_config_ref_uri", f"'{prefix}<ref>'", got))
    environment = expected.get("environment")
    if environment and token.get("environment") != environment:
        found.append(Mismatch("environment", repr(environment), token.get("environment")))
    return found


def describe(publisher) -> str:
    """How the publisher reads in a token's name, the journal and a file's record."""
    claims = publisher.claims
    if publisher.kind == PublisherKind.GITHUB:
        text = f"GitHub Actions {claims.get('repository')}, workflow {claims.get('workflow')}"
    elif publisher.kind == PublisherKind.GITLAB:
        where = "" if publisher.issuer == GITLAB_ISSUER else f" at {_host_and_path(publisher.issuer)}"
        text = f"GitLab CI {claims.get('project_path')}{where}, {claims.get('ci_config_ref_uri')}"
    else:
        text = f"OIDC {_host_and_path(publisher.issuer)}, sub {claims.get('sub')}"
    if claims.get("environment") and publisher.kind != PublisherKind.GENERIC:
        text += f", environment {claims['environment']}"
    return text
