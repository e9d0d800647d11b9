"""Pagination for every list of the API: cursors, a deterministic order, a maximum size.

Cursors (not page numbers) keep a page's rows stable while releases are added,
and cost the same on page 1 and page 500. Every list sends its neighbours in
a ``Link`` header as well as in the body.
"""

from __future__ import annotations

import base64
import binascii
import json

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def link_header(**links: str | None) -> str:
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)


# A stored page's start holding its links: two URLs the request line bounds (a few KiB each).
LINKS_HEAD = 64 * 1024
_RESULTS = b',"results":'


def links_of(found) -> dict[str, str]:
    """The ``Link`` header of a stored cursor page (a ``store.Found``), read off its body's start.

    ``get_paginated_response`` writes ``{"next":...,"previous":...,"results":...}`` and the
    renderer keeps that order, so the links come first: only they are decoded, not the rows.
    """
    head = found.head(LINKS_HEAD)
    end = head.find(_RESULTS)
    # (Not found: links longer than any request line allows, so the whole page is read.)
    links = json.loads(head[:end] + b"}") if end >= 0 else json.loads(found.head())
    header = link_header(next=links["next"], prev=links["previous"])
    return {"Link": header} if header else {}


class IndexCursorPagination(CursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"

    invalid_cursor = "The cursor is not valid; follow the 'next' and 'previous' links."

    def decode_cursor(self, request):
        raw = request.query_params.get(self.cursor_query_param)
        if raw and not _looks_like_a_cursor(raw):
            raise ParseError(self.invalid_cursor)
        try:
            return super().decode_cursor(request)
        except NotFound as error:
            # A malformed cursor is a bad request, not a missing page.
            raise ParseError(self.invalid_cursor) from error

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError) as error:
            # A well-encoded cursor whose position is not a value of the ordering field.
            raise ParseError(self.invalid_cursor) from error

    def get_paginated_response(self, data):
        response = Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})
        links = link_header(next=self.get_next_link(), prev=self.get_previous_link())
        if links:
            response["Link"] = links
        return response

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }


class ProjectPagination(IndexCursorPagination):
    ordering = ("normalized_name",)


class NamespacePagination(IndexCursorPagination):
    # With revoked grants a namespace may have several rows: the id keeps their order fixed.
    ordering = ("namespace", "id")


class RolePagination(IndexCursorPagination):
    # An annotation of the view's queryset: the cursor reads its position off each row.
    ordering = ("project_name",)


class ReleasePagination(IndexCursorPagination):
    """Newest first by version (PEP 440 order), or by upload date with ``?order=created``."""

    ordering = ("-sort_key", "-id")
    orderings = {"version": ("-sort_key", "-id"), "created": ("-created", "-id")}

    def get_ordering(self, request, queryset, view):
        return self.orderings[view.release_order()]


class SerialPagination(BasePagination):
    """The events feed: everything after ``?since=<serial>``, ascending, at most a page.

    The position is the serial itself, so a mirror can resume from the last
    serial it has seen with no cursor at all. On PostgreSQL serials become
    visible in commit order (``services.journal``), so a page never skips one
    that commits later.
    """

    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.since = _non_negative_int(request.query_params.get("since", "0"), "since")
        self.limit = min(
            _non_negative_int(request.query_params.get("page_size", str(self.page_size)), "page_size") or 1,
            self.max_page_size,
        )
        rows = list(queryset.filter(id__gt=self.since).order_by("id")[: self.limit + 1])
        self.has_next = len(rows) > self.limit
        self.page = rows[: self.limit]
        return self.page

    def next_link(self) -> str | None:
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        url = replace_query_param(url, "since", self.page[-1].id)
        return replace_query_param(url, "page_size", self.limit)

    def get_paginated_response(self, data, last_serial: int = 0):
        response = Response({"last_serial": last_serial, "next": self.next_link(), "results": data})
        if self.has_next:
            response["Link"] = link_header(next=self.next_link())
        return response

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["last_serial", "next", "results"],
            "properties": {
                "last_serial": {"type": "integer"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "since",
                "in": "query",
                "required": False,
                "description": "Return events with a serial greater than this one.",
                "schema": {"type": "integer", "minimum": 0},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "description": f"At most this many events (up to {MAX_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]


def _looks_like_a_cursor(raw: str) -> bool:
    """Our cursors are base64 of a query string with o=, r= or p= keys."""
    try:
        decoded = base64.b64decode(raw.encode("ascii"), validate=False).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        return False
    return any(part.split("=", 1)[0] in {"o", "r", "p"} and "=" in part for part in decoded.split("&"))


def _non_negative_int(text: str, name: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise ParseError(f"'{name}' must be a whole number, 0 or more.")
    return int(text)
