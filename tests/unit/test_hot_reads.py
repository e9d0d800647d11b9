"""The installer requests' two reads (packages_app/hot_reads.py) answer what the ORM answers, in one query."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from packages_app import hot_reads
from packages_app.models import Project, ProjectStatus, Visibility
from tests.factories import FileFactory, ProjectFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def test_the_project_of_a_page_is_the_orms_in_one_query():
    ProjectFactory(name="Other")
    made = ProjectFactory(name="Tool_Kit", status=ProjectStatus.DEPRECATED, status_reason="use other")
    with CaptureQueriesContext(connection) as queries:
        found = hot_reads.project_for_page("tool-kit")
        fields = {field: getattr(found, field) for field in ("pk", *hot_reads.PROJECT_PAGE_FIELDS)}
    assert len(queries) == 1
    expected = Project.objects.get(pk=made.pk)
    assert fields == {field: getattr(expected, field) for field in ("pk", *hot_reads.PROJECT_PAGE_FIELDS)}
    assert isinstance(found.created, datetime)
    assert found.status == ProjectStatus.DEPRECATED
    assert found.offers_files
    assert not found.is_restricted


def test_an_unknown_name_is_none():
    ProjectFactory(name="tool-kit")
    assert hot_reads.project_for_page("tool-kits") is None
    assert hot_reads.project_for_page("Tool-Kit") is None  # the caller normalises
    assert hot_reads.project_for_page("x' OR '1'='1") is None  # a parameter, never SQL


def test_a_file_to_download_comes_with_its_projects_state_in_one_query():
    project = ProjectFactory(name="tool-kit", visibility=Visibility.RESTRICTED, status=ProjectStatus.QUARANTINED)
    release = ReleaseFactory(project=project, version="1.0")
    made = FileFactory(release=release, metadata_sha256="ab" * 32)
    FileFactory(release=ReleaseFactory(project=project, version="2.0"))
    with CaptureQueriesContext(connection) as queries:
        found = hot_reads.file_for_download(made.path)
    assert len(queries) == 1
    made.refresh_from_db()
    assert found == hot_reads.FileForDownload(
        size=made.size,
        sha256=made.sha256_digest,
        metadata_sha256="ab" * 32,
        upload_time=made.upload_time,
        project_status=ProjectStatus.QUARANTINED,
        project_id=project.pk,
        project_visibility=Visibility.RESTRICTED,
        file_id=made.pk,
        release_id=release.pk,
    )
    assert isinstance(found.upload_time, datetime)
    assert found.upload_time.tzinfo is not None
    assert hot_reads.file_for_download(made.path + "x") is None
