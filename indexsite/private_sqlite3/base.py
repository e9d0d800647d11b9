"""Django's SQLite backend, making a new database readable by its owner only.

The database holds password hashes, token hashes and sessions. SQLite creates its file
with the process's umask (usually readable by everyone), and its ``-wal`` and ``-shm``
files with the database file's mode; so the file is made first, mode 0600, and its
folder, when that is new too, mode 0700. An existing file or folder keeps its mode.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        name = str(conn_params["database"])
        if not self.is_in_memory_db() and not name.startswith("file:"):
            create_private(Path(name))
        return super().get_new_connection(conn_params)


def create_private(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
