"""Django set up for the benchmark scripts that work inside the index's own process.

Import it before any import of Django or of the index. A script run as
``python benchmarks/<name>.py`` has only benchmarks/ on sys.path, so the
repository root is put there too, for the index's packages. The settings are
the index's own, read from the environment as the server reads them, unless
DJANGO_SETTINGS_MODULE names others.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "indexsite.settings")
django.setup()
