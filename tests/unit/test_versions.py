import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from packages_app import versions

# Ascending PEP 440 order, with legacy versions first.
ORDERED = [
    "dev",
    "1.0-SNAPSHOT",
    "2004d",
    "0.9",
    "1.0.dev0",
    "1.0.dev1",
    "1.0a1.dev1",
    "1.0a1",
    "1.0a1.post1",
    "1.0a2",
    "1.0b1",
    "1.0rc1",
    "1.0",
    "1.0+abc",
    "1.0+abc.5",
    "1.0+5",
    "1.0.post1.dev1",
    "1.0.post1",
    "1.0.1",
    "1.1",
    "1.10",
    "2.0",
    "1!0.1",
]


def test_table_is_in_order():
    keys = [versions.sort_key(v) for v in ORDERED]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize(("left", "right"), [("1.0", "1.0.0"), ("1.0", "1"), ("1.0a1", "1.0.0a1")])
def test_equal_versions_have_equal_keys(left, right):
    assert versions.sort_key(left) == versions.sort_key(right)


def test_keys_are_digits_only():
    assert all(versions.sort_key(v).isdigit() for v in ORDERED)


def test_is_prerelease():
    assert versions.is_prerelease("1.0rc1")
    assert versions.is_prerelease("1.0.dev3")
    assert not versions.is_prerelease("1.0.post1")
    assert not versions.is_prerelease("2004d")


_segment = st.integers(min_value=0, max_value=120)
_local_part = st.one_of(st.integers(min_value=0, max_value=50).map(str), st.sampled_from(["abc", "ab", "ubuntu", "z"]))
pep440_versions = st.builds(
    lambda epoch, release, pre, post, dev, local: (
        (f"{epoch}!" if epoch else "")
        + ".".join(map(str, release))
        + (f"{pre[0]}{pre[1]}" if pre else "")
        + (f".post{post}" if post is not None else "")
        + (f".dev{dev}" if dev is not None else "")
        + ("+" + ".".join(local) if local else "")
    ),
    st.integers(min_value=0, max_value=3),
    st.lists(_segment, min_size=1, max_size=4),
    st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), _segment),
    st.none() | _segment,
    st.none() | _segment,
    st.lists(_local_part, max_size=3),
)


@given(pep440_versions, pep440_versions)
def test_key_order_matches_packaging(left, right):
    lv, rv = Version(left), Version(right)
    lk, rk = versions.sort_key(left), versions.sort_key(right)
    assert (lk < rk) == (lv < rv)
    assert (lk == rk) == (lv == rv)


legacy_versions = st.text(alphabet="0123456789.-abcdefrz_", min_size=1, max_size=12).filter(
    lambda v: versions.parse(v) is None
)


@given(legacy_versions, legacy_versions)
def test_legacy_order_matches_packaging_legacy(left, right):
    from packaging_legacy.version import LegacyVersion

    lv, rv = LegacyVersion(left), LegacyVersion(right)
    lk, rk = versions.sort_key(left), versions.sort_key(right)
    assert (lk < rk) == (lv < rv)
    assert (lk == rk) == (lv == rv)


@given(legacy_versions, pep440_versions)
def test_legacy_versions_sort_before_pep440(legacy, modern):
    assert versions.sort_key(legacy) < versions.sort_key(modern)
