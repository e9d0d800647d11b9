"""The scene the web UI's functional tests share: open and restricted projects, and who sees them."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, User

from packages_app.models import Project, Visibility
from packages_app.services import projects, roles
from tests.factories import FileFactory, ProjectFactory, ReleaseFactory, UserFactory

PASSWORD = "correct horse battery staple"  # the factories' password

MARKDOWN_README = """# Demo

Some **bold** text and a [link](https://example.invalid/docs).

| a | b |
|---|---|
| 1 | 2 |
"""


@dataclass
class Scene:
    demo: Project
    secret: Project
    olivia: User  # Owner of both
    tess: User  # Reader of secret through the team "blue"
    nick: User  # no role anywhere


def make_scene() -> Scene:
    olivia, tess, nick = (UserFactory(username=name) for name in ("olivia", "tess", "nick"))
    blue = Group.objects.create(name="blue")
    tess.groups.add(blue)
    demo = ProjectFactory(name="Demo", last_serial=5)
    first = ReleaseFactory(
        project=demo,
        version="1.0",
        summary="Reads barometers",
        requires_python=">=3.11",
        classifiers=["Programming Language :: Python :: 3", "License :: OSI Approved :: MIT License"],
        requires_dist=["requests>=2", "pytest; extra == 'test'"],
        provides_extra=["test"],
        project_urls={"Source": "https://example.invalid/src", "Evil": "javascript:alert(1)"},
    )
    FileFactory(release=first, uploaded_by=olivia, metadata_sha256="ab" * 32)
    FileFactory(
        release=first,
        filename="demo-1.0.tar.gz",
        packagetype="sdist",
        python_version="source",
        uploaded_by_publisher="trusted publisher: GitHub Actions acme/demo, workflow release.yml",
    )
    yanked = ReleaseFactory(project=demo, version="1.1", yanked=True, yanked_reason="broke the build")
    FileFactory(release=yanked)
    ReleaseFactory(
        project=demo,
        version="2.0",
        summary="Reads barometers well",
        description=MARKDOWN_README,
        description_content_type="text/markdown",
    )  # no files
    roles.grant_role(demo, olivia, "Owner")
    secret = ProjectFactory(name="secret-pkg", last_serial=6)
    ReleaseFactory(project=secret, version="0.1", summary="Reads barometers in secret")
    roles.grant_role(secret, olivia, "Owner")
    roles.grant_role(secret, blue, "Reader")
    secret = projects.set_visibility(secret, Visibility.RESTRICTED)
    return Scene(demo=demo, secret=secret, olivia=olivia, tess=tess, nick=nick)
