"""A release's core metadata as a person reads it: links, people, dependencies, classifiers.

Not the 25 raw fields: the dependencies grouped by extra (``Requires-Dist`` with an
``extra == "..."`` marker, core metadata 2.1), the classifiers grouped by their first
segment, project URLs (``Project-URL``, plus the older ``Home-page`` and ``Download-URL``)
as links when they are http(s) and as text otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from packages_app.models import Release

_EXTRA = r"""extra\s*==\s*(['"])(?P<extra>[^'"]+)\1"""
# The extra's clause, where it can stand: the whole marker, after another clause, before one.
_EXTRA_CLAUSES = (
    re.compile(rf"\s*;\s*{_EXTRA}\s*$"),
    re.compile(rf"\s+and\s+{_EXTRA}"),
    re.compile(rf"{_EXTRA}\s+and\s+"),
)


@dataclass(frozen=True)
class Link:
    label: str
    url: str

    @property
    def followable(self) -> bool:
        """Only web links are made clickable (never ``javascript:`` or ``data:``)."""
        return urlsplit(self.url).scheme.lower() in ("http", "https")


@dataclass
class ReadableMetadata:
    links: list[Link] = field(default_factory=list)
    people: list[tuple[str, str]] = field(default_factory=list)  # (role, "name <email>")
    license: str = ""
    requires_python: str = ""
    dependencies: list[str] = field(default_factory=list)
    extras: dict[str, list[str]] = field(default_factory=dict)  # extra -> its dependencies
    classifiers: dict[str, list[str]] = field(default_factory=dict)  # "Programming Language" -> ["Python :: 3"]
    keywords: list[str] = field(default_factory=list)
    import_names: list[str] = field(default_factory=list)


def project_links(release: Release) -> list[Link]:
    links = [Link(label, url) for label, url in (release.project_urls or {}).items()]
    if release.home_page:
        links.insert(0, Link("Homepage", release.home_page))
    if release.download_url:
        links.append(Link("Download", release.download_url))
    return links


def split_extra(requirement: str) -> tuple[str, str | None]:
    """``"pytest; extra == 'test'"`` -> ``("pytest", "test")``; other markers stay on the requirement."""
    if ";" not in requirement:
        return requirement, None
    for clause in _EXTRA_CLAUSES:
        match = clause.search(requirement)
        if match is not None:
            return (requirement[: match.start()] + requirement[match.end() :]).strip(), match["extra"]
    return requirement, None


def _person(name: str, email: str) -> str:
    if name and email:
        return f"{name} <{email}>"
    return name or email


def readable(release: Release) -> ReadableMetadata:
    shown = ReadableMetadata(
        links=project_links(release),
        license=release.license_expression or release.license,
        requires_python=release.requires_python,
        keywords=[word.strip() for word in re.split(r"[,\s]+", release.keywords or "") if word.strip()],
        import_names=list(release.import_names or []),
    )
    for role, name, email in (
        ("Author", release.author, release.author_email),
        ("Maintainer", release.maintainer, release.maintainer_email),
    ):
        if name or email:
            shown.people.append((role, _person(name, email)))
    for requirement in release.requires_dist or []:
        plain, extra = split_extra(requirement)
        if extra is None:
            shown.dependencies.append(requirement)
        else:
            shown.extras.setdefault(extra, []).append(plain)
    for extra in release.provides_extra or []:
        shown.extras.setdefault(extra, [])
    for classifier in release.classifiers or []:
        group, _, rest = classifier.partition(" :: ")
        shown.classifiers.setdefault(group, []).append(rest or group)
    return shown
