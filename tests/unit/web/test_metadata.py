"""packages_app/web/metadata.py: a release's metadata as a person reads it."""

from __future__ import annotations

import pytest

from packages_app.models import Release
from packages_app.web import metadata


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("requests>=2", ("requests>=2", None)),
        ("pytest; extra == 'test'", ("pytest", "test")),
        ('pytest ; extra=="test"', ("pytest", "test")),
        ('a>1; python_version < "3.12" and extra == "x"', ('a>1; python_version < "3.12"', "x")),
        ('b; extra == "y" and os_name == "nt"', ('b; os_name == "nt"', "y")),
        ('c; python_version < "3"', ('c; python_version < "3"', None)),
    ],
)
def test_split_extra(requirement, expected):
    assert metadata.split_extra(requirement) == expected


def test_readable():
    release = Release(
        version="1.0",
        author="Ada",
        author_email="ada@example.invalid",
        maintainer_email="ops@example.invalid",
        license_expression="MIT",
        keywords="weather, pressure sensors",
        classifiers=[
            "Programming Language :: Python :: 3",
            "Programming Language :: Python :: 3.12",
            "Typing :: Typed",
        ],
        requires_dist=["requests>=2", "pytest; extra == 'test'"],
        provides_extra=["test", "docs"],
        home_page="https://example.invalid",
        project_urls={"Source": "https://example.invalid/src", "Bad": "javascript:alert(1)"},
    )
    shown = metadata.readable(release)
    assert shown.people == [("Author", "Ada <ada@example.invalid>"), ("Maintainer", "ops@example.invalid")]
    assert shown.license == "MIT"
    assert shown.keywords == ["weather", "pressure", "sensors"]
    assert shown.classifiers == {"Programming Language": ["Python :: 3", "Python :: 3.12"], "Typing": ["Typed"]}
    assert shown.dependencies == ["requests>=2"]
    assert shown.extras == {"test": ["pytest"], "docs": []}
    assert [(link.label, link.followable) for link in shown.links] == [
        ("Homepage", True),
        ("Source", True),
        ("Bad", False),
    ]
