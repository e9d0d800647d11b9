"""Read-only routes of the index: the simple API and the files it links to."""

from django.urls import path

from packages_app import downloads, simple_views

urlpatterns = [
    path("simple/", simple_views.ProjectListView.as_view(), name="simple-index"),
    path("simple", simple_views.index_without_slash),
    path("simple/<str:name>/", simple_views.ProjectDetailView.as_view(), name="simple-project"),
    path("simple/<str:name>", simple_views.project_without_slash),
    # /packages/ as on PyPI's file host: mirrors (bandersnatch) accept only file URLs under it.
    path("packages/<path:path>", downloads.serve_file, name="files"),
]
