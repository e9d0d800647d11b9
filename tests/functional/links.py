"""Reading an API answer's ``Link`` header (RFC 8288) in tests."""

from __future__ import annotations

import re


def link_header(response) -> dict[str, str]:
    """The header's targets by relation (``next``, ``prev``...); every part must be well formed."""
    links = {}
    for part in filter(None, (p.strip() for p in response.get("Link", "").split(","))):
        match = re.fullmatch(r'<([^>]+)>; rel="(\w+)"', part)
        assert match, part
        links[match.group(2)] = match.group(1)
    return links
