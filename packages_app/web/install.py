"""How to install from this index: its URL, and the commands pip, uv and poetry take.

The index URL is ``PUBLIC_BASE_URL``'s when the operator set one, else the address the
browser used. Credentials are never put in a command shown on a page: with private reads,
the page says where pip, uv and poetry read a token from (docs/clients.md).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

# The name a poetry source and a uv index get in the snippets (any name works; docs/clients.md uses it too).
SOURCE_NAME = "company"


def index_url(request: HttpRequest) -> str:
    """The simple index's URL, as installers are given it."""
    path = reverse("simple-index")
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    return request.build_absolute_uri(path)


def index_host(request: HttpRequest) -> str:
    return urlsplit(index_url(request)).hostname or ""


@dataclass(frozen=True)
class Command:
    tool: str
    text: str


def install_commands(index: str, name: str, version: str | None = None) -> list[Command]:
    """The commands that install ``name`` (``version`` exactly, when given) from ``index``."""
    requirement = shlex.quote(f"{name}=={version}" if version else name)
    quoted_index = shlex.quote(index)
    return [
        Command("pip", f"pip install --index-url {quoted_index} {requirement}"),
        Command("uv", f"uv pip install --index-url {quoted_index} {requirement}"),
        Command(
            "poetry",
            f"poetry source add --priority=primary {SOURCE_NAME} {quoted_index}\n"
            f"poetry add --source {SOURCE_NAME} {requirement}",
        ),
    ]


def page_context(request: HttpRequest) -> dict:
    """What every page that tells how to install needs: the index URL and whether reads need a token."""
    return {
        "index_url": index_url(request),
        "index_host": index_host(request),
        "source_name": SOURCE_NAME,
        "reads_need_credentials": reads_need_credentials(),
    }


def reads_need_credentials() -> bool:
    return settings.READ_ACCESS == "authenticated"
