"""Byte ranges of /packages/ downloads."""

from __future__ import annotations

import pytest

from packages_app.simple.downloads import byte_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("bytes=0-9", (0, 9)),
        ("bytes=10-", (10, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=-1000", (0, 99)),  # a suffix longer than the file is the whole file
        ("bytes=90-1000", (90, 99)),  # the end is clipped to the file
        ("bytes=99-99", (99, 99)),
        ("bytes=100-", False),  # starts past the end: 416
        ("bytes=100-200", False),
        ("bytes=-0", False),
        ("bytes=9-0", None),  # invalid: ignored, the whole file is sent
        ("bytes=0-1,5-6", None),  # several ranges: allowed to ignore
        ("items=0-9", None),
        ("bytes=-", None),
        ("bytes=a-b", None),
    ],
)
def test_byte_range(header, expected):
    assert byte_range(header, 100) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=" + "9" * 5000 + "-", False),  # starts past any file: 416
        ("bytes=" + "9" * 5000 + "-" + "9" * 5000, False),
        ("bytes=0-" + "9" * 5000, (0, 99)),  # ends past the file: clipped
        ("bytes=-" + "9" * 5000, (0, 99)),  # a suffix longer than the file
        ("bytes=" + "0" * 5000 + "5-" + "0" * 5000 + "9", (5, 9)),  # leading zeros count for nothing
        ("bytes=" + "9" * 19 + "-", False),
        ("bytes=0-" + "9" * 18, (0, 99)),
    ],
)
def test_byte_range_with_thousands_of_digits(header, expected):
    """Python refuses to read a number of more than 4,300 digits; such a position is past any file."""
    assert byte_range(header, 100) == expected


def test_empty_file_has_no_satisfiable_range():
    assert byte_range("bytes=-5", 0) is False
    assert byte_range("bytes=0-", 0) is False
