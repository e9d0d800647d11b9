"""Settings read from the environment, checked in a fresh interpreter."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def django_check(**env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = django_check(INDEX_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_starts_with_a_secret_key(tmp_path):
    result = django_check(INDEX_DATA_DIR=str(tmp_path), SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr


def test_unknown_file_storage_is_refused(tmp_path):
    result = django_check(INDEX_DATA_DIR=str(tmp_path), DEBUG="true", FILE_STORAGE="ftp")
    assert result.returncode != 0
    assert "FILE_STORAGE must be 'local' or 's3'" in result.stderr
