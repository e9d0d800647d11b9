"""Template filters of the web UI: one date format everywhere, with the relative time beside it."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def moment(value: datetime | None) -> str:
    """``<time>`` with the date (UTC, ``2026-12-06 05:10 UTC``), then how long ago in words."""
    if value is None:
        return ""
    utc = value.astimezone(UTC) if timezone.is_aware(value) else value
    return format_html(
        '<time datetime="{}">{} UTC</time> <span class="ago">({} ago)</span>',
        utc.isoformat(timespec="seconds"),
        utc.strftime("%Y-%m-%d %H:%M"),
        timesince(value),
    )


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago, in words: ``3 days, 2 hours ago``."""
    return f"{timesince(value)} ago" if value is not None else ""
