"""Sizes in bytes, read from people (``10GiB``) and shown to them (``9.5 GB``).

No Django here: the settings read ``MAX_PROJECT_SIZE`` with it before apps are loaded.
"""

from __future__ import annotations

import re

UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip
FORMS = "give bytes as a whole number, or with a unit (KB, MB, GB, KiB, MiB, GiB)"


def parse_size(value: object) -> int:
    """Bytes: a whole number, optionally with a unit (100MB is 10^8 bytes, 100MiB 100 x 2^20)."""
    match = re.fullmatch(r"(\d+)\s*([A-Za-z]*)", str(value).strip())
    if match is None or match[2].lower() not in UNITS:
        raise ValueError(f"Not a size: {FORMS}.")
    return int(match[1]) * UNITS[match[2].lower()]


def human_size(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.4g} {unit}"
    return f"{size} bytes"
