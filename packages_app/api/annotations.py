"""drf-spectacular's ``extend_schema``, applied when a schema is first made, not at import.

The real decorator builds its schema class on drf-spectacular's ``AutoSchema`` there and then,
and importing that loads drf-spectacular's generator and with it ``rest_framework.test`` and
``django.test`` (jinja2, unittest, xml.dom): ~4 MiB in every gunicorn worker, for the few
requests that ask for ``/api/v1/schema/`` (issue #25). Here the decorator only records what it
was given; ``apply`` hands each record to the real one, in the order the decorators ran (a
view's methods before the view), before a schema is first made
(``packages_app.api.schema.SchemaGenerator``, which every way of making one uses: the schema
view, ``manage.py spectacular`` and drf-spectacular's deploy check). Once applied, a decorator
that runs later (a module imported afterwards) is applied at once.

Nothing but a schema reads what the decorators set (a view's ``schema``, a method's
``kwargs["schema"]``), so requests are served the same whether or not they have been applied.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.RLock()
_pending: list[tuple[Any, dict[str, Any]]] = []
_applied = False


def extend_schema(**kwargs: Any):
    """Record ``drf_spectacular.utils.extend_schema(**kwargs)`` for the decorated view or method."""

    def record(target):
        with _lock:
            if not _applied:
                _pending.append((target, kwargs))
                return target
        return _apply_one(target, kwargs)

    return record


def _apply_one(target, kwargs: dict[str, Any]):
    from drf_spectacular.utils import extend_schema as real

    return real(**kwargs)(target)


def apply() -> None:
    """Apply every recorded decorator (once; later ones are applied as they run)."""
    global _applied
    with _lock:
        if _applied:
            return
        _applied = True
        while _pending:
            target, kwargs = _pending.pop(0)
            # The real decorator returns the view or method it was given, changed in place.
            _apply_one(target, kwargs)
