"""Read-only routes of the index: the simple API and the files it links to."""

from django.urls import path

from packages_app.simple import downloads, namespace_views, views
from packages_app.upstream import files as upstream_files


def simple_api(prefix: str, name: str, horizon: str | None = None) -> list:
    """The simple API's pages under ``prefix``, and their slash-less forms (301 to the pages).

    ``horizon`` is the time filter (``timetravel.view_for``) for prefixes that carry a ``<when>``.
    """
    extra = {"horizon": horizon} if horizon else {}
    return [
        # PEP 752's endpoints first: /simple/namespaces (no slash) is theirs, /simple/namespaces/ a project's.
        path(
            f"{prefix}namespaces", namespace_views.NamespaceListView.as_view(horizon=horizon), name=f"{name}-namespaces"
        ),
        path(
            f"{prefix}namespace/<str:namespace>",
            namespace_views.NamespaceDetailView.as_view(horizon=horizon),
            name=f"{name}-namespace",
        ),
        path(prefix, views.ProjectListView.as_view(horizon=horizon), name=f"{name}-index"),
        path(prefix.removesuffix("/"), views.index_without_slash, extra),
        path(f"{prefix}<str:name>/", views.ProjectDetailView.as_view(horizon=horizon), name=f"{name}-project"),
        path(f"{prefix}<str:name>", views.project_without_slash, extra),
    ]


urlpatterns = [
    *simple_api("simple/", "simple"),
    # Time travel (packages_app/simple/timetravel.py, docs/time-travel.md): the same pages, as of a moment.
    *simple_api("snapshot/<str:when>/simple/", "snapshot", horizon="snapshot"),
    *simple_api("cooldown/<str:when>/simple/", "cooldown", horizon="cooldown"),
    # /packages/ as on PyPI's file host: mirrors (bandersnatch) accept only file URLs under it.
    # Files of projects served from UPSTREAM_INDEX_URL (docs/upstream.md); no local path starts so.
    path("packages/upstream/<path:rest>", upstream_files.serve, name="upstream-files"),
    path("packages/<path:path>", downloads.serve_file, name="files"),
]
