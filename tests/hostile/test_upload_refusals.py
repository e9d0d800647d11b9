"""Every hostile upload in the catalogue is refused with a 4xx that says why,
leaves no row, no stored file and no temporary file, and the index takes a
sound upload right after it."""

from __future__ import annotations

import pytest

from tests.hostile import catalogue, checks

UPLOAD_CATEGORIES = ("form", "filename", "digest", "archive", "metadata", "request")


@pytest.mark.parametrize("case", catalogue.params(*UPLOAD_CATEGORIES))
def test_refused_and_nothing_kept(client, owner_auth, upload_temp_dir, tmp_path, case):
    upload = case.make()
    before = checks.index_state()
    response = checks.send(client, upload, owner_auth)
    checks.assert_refused(response, case.expect, case.status)
    checks.assert_nothing_kept(before, upload_temp_dir)
    checks.assert_index_healthy(client, tmp_path, owner_auth)
