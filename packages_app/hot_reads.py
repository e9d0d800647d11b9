"""The two reads every installer request makes, compiled once per process instead of per request.

A warm ``/simple/<name>/`` hit is one query (the project's serial and state), and a download
one more (the file's row with its project's state). Built through the ORM on each request,
each cost more to compile than to run: ``.only(...).filter(...).first()`` took about 1 ms of
CPU on a loaded machine where running the same statement again takes a quarter of it. So each
is built through the ORM once, with a stand-in value, and its SQL is run with the request's
value through ``raw()``, which gives model instances as the ORM does
(``tests/unit/test_hot_reads.py`` holds them to the ORM's answers). Every other read stays in
``packages_app.querysets``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db.models import F, QuerySet

from packages_app.models import File, Project

# The project's columns a simple page needs; the others are deferred, as with ``.only()``.
PROJECT_PAGE_FIELDS = ("name", "normalized_name", "last_serial", "status", "status_reason", "created", "visibility")


_STAND_IN = "hot-reads-stand-in"


def _compiled(queryset: QuerySet) -> str:
    """The SQL of ``queryset``, whose one parameter is the stand-in, with a placeholder for it."""
    sql, params = queryset.query.sql_with_params()
    if tuple(params) != (_STAND_IN,):
        raise AssertionError(f"a hot read takes one parameter, the stand-in: {params!r}")
    return sql


@cache
def _project_sql() -> str:
    return _compiled(Project.objects.only(*PROJECT_PAGE_FIELDS).filter(normalized_name=_STAND_IN))


def project_for_page(normalized: str) -> Project | None:
    """The project whose PEP 503 name is ``normalized`` (already normalised), with the page's fields."""
    return next(iter(Project.objects.raw(_project_sql(), [normalized])), None)


@dataclass(frozen=True)
class FileForDownload:
    """What serving a download needs of a file's row and its project's."""

    size: int
    sha256: str
    metadata_sha256: str
    upload_time: datetime
    project_status: str
    project_id: int
    project_visibility: str
    file_id: int
    release_id: int


@cache
def _file_sql() -> str:
    files = File.objects.only("size", "sha256_digest", "metadata_sha256", "upload_time", "release_id").annotate(
        project_ref=F("release__project_id"),
        project_status=F("release__project__status"),
        project_visibility=F("release__project__visibility"),
    )
    return _compiled(files.filter(path=_STAND_IN))


def file_for_download(path: str) -> FileForDownload | None:
    """The file stored at ``path`` (its storage path, under ``/packages/``), or None."""
    row = next(iter(File.objects.raw(_file_sql(), [path])), None)
    if row is None:
        return None
    return FileForDownload(
        size=row.size,
        sha256=row.sha256_digest,
        metadata_sha256=row.metadata_sha256,
        upload_time=row.upload_time,
        project_status=row.project_status,
        project_id=row.project_ref,
        project_visibility=row.project_visibility,
        file_id=row.pk,
        release_id=row.release_id,
    )
