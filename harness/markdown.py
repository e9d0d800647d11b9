"""Markdown documents that scripts rewrite in part: the benchmarks write their sections of a doc."""

from __future__ import annotations


def replace_section(text: str, heading: str, body: str) -> str:
    """Put ``body`` under ``heading`` (a ``## `` line), replacing only that section; append it when absent."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    block = [heading, "", *body.strip("\n").splitlines(), ""]
    if start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        return "\n".join([*lines, "", *block])
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join([*lines[:start], *block, *lines[end:]]).rstrip("\n") + "\n"
