import pytest

from packages_app import naming


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Foo_Bar.baz", "foo-bar-baz"),
        ("foo-bar-baz", "foo-bar-baz"),
        ("FOO__BAR--baz", "foo-bar-baz"),
        ("zope.interface", "zope-interface"),
        ("a", "a"),
    ],
)
def test_normalize_name(name, expected):
    assert naming.normalize_name(name) == expected


@pytest.mark.parametrize(
    ("name", "valid"),
    [("requests", True), ("Foo_Bar.baz", True), ("a", True), ("-foo", False), ("foo-", False), ("fo o", False),
     ("", False), ("föö", False)],
)  # fmt: skip
def test_is_valid_project_name(name, valid):
    assert naming.is_valid_project_name(name) is valid


@pytest.mark.parametrize(
    ("left", "right"),
    [("1.0", "1.0.0"), ("1.0", "1"), ("1.0a1", "1.0.0alpha1"), ("1.0.post1", "1.0-1"), ("2!1.0", "2!1.0.0")],
)
def test_equal_versions_share_a_canonical_form(left, right):
    assert naming.canonical_version(left) == naming.canonical_version(right)


def test_different_versions_differ():
    assert naming.canonical_version("1.0") != naming.canonical_version("1.0.1")


def test_legacy_versions_keep_their_spelling():
    assert naming.canonical_version("2004d") == "2004d"
    assert naming.canonical_version(" 1.0-SNAPSHOT ") == "1.0-snapshot"


def test_wheel_name_part():
    assert naming.wheel_name_part("Foo.Bar-baz") == "foo_bar_baz"
