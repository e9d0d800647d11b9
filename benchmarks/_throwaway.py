"""A throw-away index for the in-process benchmarks: call ``prepare`` before importing ``_django``.

Without ``INDEX_DATA_DIR`` or ``DATABASE_URL`` the benchmark gets a fresh SQLite index in a
temporary folder; the production settings apply (``DEBUG=false``) with a benchmark-only key.
"""

from __future__ import annotations

import os
import tempfile


def prepare(prefix: str, **environment: str) -> None:
    """Set the environment the index's settings read; ``environment`` adds defaults of the caller."""
    if "INDEX_DATA_DIR" not in os.environ and "DATABASE_URL" not in os.environ:
        os.environ["INDEX_DATA_DIR"] = tempfile.mkdtemp(prefix=f"{prefix}-")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
    for name, value in environment.items():
        os.environ.setdefault(name, value)
