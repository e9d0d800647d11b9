"""The database as an older migration left it, for tests of what a data migration does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@contextmanager
def migrated_back_to(target: list[tuple[str, str]]) -> Iterator[Apps]:
    """The models as of ``target``, with the database migrated back to it for the block and
    forward to the latest migrations after it (needs ``transactional_db``)."""
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    try:
        yield MigrationExecutor(connection).loader.project_state(target).apps
    finally:
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())


def migrate_to(target: list[tuple[str, str]]) -> Apps:
    """Run the migrations up to ``target`` (inside ``migrated_back_to``); the models as of it."""
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps
