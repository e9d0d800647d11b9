"""``devpi-import`` made fast enough for a benchmark's data, with the stored state unchanged.

Run with the peers' Python (``benchmarks/.peers/bin/python``) and ``devpi-import``'s own
arguments. devpi-server's importer, unchanged, took 14 minutes for the benchmark's data
(and over half an hour for the ccxt-sized project alone before the first change below),
because of three costs that grow with what is already stored:

1. after every file, the project's whole list of simple-page links is rebuilt
   (``_regen_simplelinks``): O(files) per file, O(files²) per project. Here the rebuild
   is deferred and done once per project at the end;
2. finding a key written earlier in the same transaction scans every key written so far
   (``Transaction.get_key_in_transaction``): O(files²) for a project imported in one
   transaction. Here a per-transaction dictionary finds it;
3. one transaction per project re-reads the index's list of projects each time, which
   makes 10,000 one-release projects quadratic too. Here consecutive projects share a
   transaction, up to ``BATCH_VERSIONS`` versions each.

Run it with ``--no-events``: devpi's events only call plugin hooks and none is installed, so
they are marked done at the end instead of replayed (for minutes) when the server starts.

devpi's own code writes every key, file and link; the end state is what its unchanged
importer leaves (the link list depends only on what is stored). What devpi pays when a
real upload rebuilds the list is measured by the benchmark as the first request after a
change. The peers' versions are pinned (``peers-requirements.txt``), since this reaches
into devpi-server's internals.
"""

from __future__ import annotations

import sys

from devpi_server import importexport, keyfs, model
from devpi_server.markers import absent, deleted

BATCH_VERSIONS = 5000

_pending: dict[str, set[str]] = {}
_original_regen = model.PrivateStage._regen_simplelinks
_original_import_all = importexport.Importer.import_all
_original_iter_projects = importexport.Importer.iter_projects_normalized
_original_set = keyfs.Transaction.set
_original_delete = keyfs.Transaction.delete


def _defer_regen(stage, project) -> None:
    _pending.setdefault(stage.name, set()).add(project)


def _import_all_then_regen(importer, path) -> None:
    _original_import_all(importer, path)
    xom = importer.xom
    for stage_name, projects in _pending.items():
        with xom.keyfs.write_transaction():
            stage = xom.model.getstage(stage_name)
            for project in sorted(projects):
                _original_regen(stage, project)
        importer.tw.line(f"simple links of {len(projects)} projects in {stage_name} built")
    # Run with --no-events: the events only call plugin hooks (devpi-web's search index and
    # the like) and none is installed, so they are marked done rather than replayed at start.
    xom.keyfs.notifier.write_event_serial(xom.keyfs.get_current_serial())


def _remember(transaction, typedkey) -> None:
    transaction.__dict__.setdefault("_by_relpath", {}).setdefault(typedkey.relpath, typedkey)


def _set(transaction, typedkey, val) -> None:
    _original_set(transaction, typedkey, val)
    _remember(transaction, typedkey)


def _delete(transaction, typedkey) -> None:
    _original_delete(transaction, typedkey)
    _remember(transaction, typedkey)


def _get_key_in_transaction(transaction, relpath):
    key = transaction.__dict__.get("_by_relpath", {}).get(relpath)
    if key is not None and transaction.cache.get(key, absent) not in (absent, deleted):
        return key
    raise KeyError(relpath)


def _projects_in_batches(importer, projects):
    """devpi's per-project ``write_transaction()`` reuses the one open in this thread."""
    keyfs_ = importer.xom.keyfs
    batch = None
    versions_in_batch = 0
    try:
        for project, versions in _original_iter_projects(importer, projects):
            if batch is None:
                batch = keyfs_.write_transaction()
                batch.__enter__()
            yield project, versions
            versions_in_batch += len(versions)
            if versions_in_batch >= BATCH_VERSIONS:
                batch.__exit__(None, None, None)
                batch, versions_in_batch = None, 0
    except BaseException:
        if batch is not None:
            batch.__exit__(*sys.exc_info())
            batch = None
        raise
    if batch is not None:
        batch.__exit__(None, None, None)


model.PrivateStage._regen_simplelinks = _defer_regen
importexport.Importer.import_all = _import_all_then_regen
importexport.Importer.iter_projects_normalized = _projects_in_batches
keyfs.Transaction.set = _set
keyfs.Transaction.delete = _delete
keyfs.Transaction.get_key_in_transaction = _get_key_in_transaction

if __name__ == "__main__":
    sys.exit(importexport.import_())
