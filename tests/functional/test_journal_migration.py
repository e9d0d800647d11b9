"""Migration 0004 gives the journal entries written before it their action word and project name."""

from __future__ import annotations

import pytest

from tests.functional.migrations import migrate_to, migrated_back_to

BEFORE = [("packages_app", "0004_release_import_names")]
AFTER = [("packages_app", "0005_journal_kind_project_and_token")]


@pytest.fixture
def migrated_back(transactional_db):
    with migrated_back_to(BEFORE) as apps:
        yield apps


def test_old_entries_get_their_action_word_and_project_name(migrated_back):
    JournalEntry = migrated_back.get_model("packages_app", "JournalEntry")
    written = {
        "create": "project-created",
        "add Owner alice": "role-granted",
        "remove Maintainer bob": "role-revoked",
        "new release": "release-created",
        "add py3 file Demo_Pkg-1.0-py3-none-any.whl": "file-added",
        "add source file demo_pkg-1.0.tar.gz": "file-added",
        "remove file demo_pkg-1.0.tar.gz": "file-deleted",
        "yank release": "release-yanked",
        "unyank release": "release-unyanked",
        "remove release": "release-deleted",
        "set status archived": "project-status-set",
        "remove project": "project-deleted",
        "something older": "",
    }
    for action in written:
        JournalEntry.objects.create(name="Demo_Pkg", action=action)
    JournalEntry.objects.create(name="", action="create token abc for alice")

    after = migrate_to(AFTER).get_model("packages_app", "JournalEntry")
    found = dict(after.objects.exclude(name="").values_list("action", "kind"))
    assert found == written
    assert set(after.objects.exclude(name="").values_list("normalized_name", flat=True)) == {"demo-pkg"}
    token_entry = after.objects.get(name="")
    assert (token_entry.kind, token_entry.normalized_name, token_entry.token_key_id) == ("token-created", "", "")
