"""Optional packages that a library would import but the index never uses, kept out of memory.

Each gunicorn worker imports the whole application, and every MiB it imports is a MiB in each
worker (issue #25: the serving processes' total memory). Django REST framework's
``rest_framework.compat`` imports, when they are installed, several packages that only its
features the index does not use need:

- ``django.contrib.postgres.fields``: serializer fields for PostgreSQL's ``ArrayField``,
  ``HStoreField`` and ``JSONField``, which no model of the index has. It imports psycopg,
  installed for PostgreSQL: 11-25 MiB in a worker of an index on SQLite (the default). An
  index on PostgreSQL loads psycopg for its connections anyway, and the full-text search
  (``packages_app/web/search.py``) imports ``django.contrib.postgres`` itself, unhindered.
- ``requests``: ``rest_framework.test.RequestsClient`` (no test uses it).
- ``yaml``: DRF's own ``OpenAPIRenderer``; drf-spectacular renders the schema, and imports
  yaml itself when it does.
- ``pygments``: the browsable API's syntax highlighting; the API renders JSON only
  (``REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"]``).

And DRF's schema generator imports ``django.contrib.admindocs.views`` (for ``simplify_regex``),
whose ``utils`` imports docutils (with pygments: ~3 MiB) to render docstrings in the admin's
documentation pages, an app the index does not install.

``import_without_unused_extras`` imports ``rest_framework.compat`` and
``django.contrib.admindocs.utils`` with those hidden (each records them as not installed),
then un-hides them for everyone else: the README renderer (``packages_app/web/readmes.py``)
imports docutils and pygments itself when it renders reStructuredText. ``packages_app/apps.py``
calls it before any application module is imported, in every process (server, management
command, test run alike). ``tests/unit/test_lean_imports.py`` checks that a worker of the
default configuration loads none of these, nor boto3 or PyJWT.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator

# rest_framework.compat's optional imports that the index has no use for (above).
REST_FRAMEWORK_UNUSED = ("django.contrib.postgres.fields", "requests", "yaml", "pygments")
# django.contrib.admindocs.utils's.
ADMINDOCS_UNUSED = ("docutils",)


@contextlib.contextmanager
def hidden(names: Iterable[str]) -> Iterator[None]:
    """Within the block, importing any of ``names`` not yet imported raises ImportError."""
    added = [name for name in names if name not in sys.modules]
    for name in added:
        sys.modules[name] = None  # type: ignore[assignment] - the import system's "not installed"
    try:
        yield
    finally:
        for name in added:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def import_without_unused_extras() -> None:
    """Import ``rest_framework.compat`` and ``django.contrib.admindocs.utils`` without the
    optional packages the index does not use.

    Once imported, a module stays as it was: call this before anything imports DRF.
    """
    if "rest_framework.compat" not in sys.modules:
        with hidden(REST_FRAMEWORK_UNUSED):
            import rest_framework.compat  # noqa: F401
    if "django.contrib.admindocs.utils" not in sys.modules:
        with hidden(ADMINDOCS_UNUSED):
            import django.contrib.admindocs.utils  # noqa: F401
