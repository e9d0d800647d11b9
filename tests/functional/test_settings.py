"""Settings read from the environment, checked in a fresh interpreter."""

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# The run's own choices (S3, Redis, PostgreSQL) must not decide what these tests see.
_RUN_SETTINGS = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "ALLOWED_HOSTS", "PRODUCTION"}
_RUN_SETTINGS |= {"FILE_STORAGE", "REDIS_URL", "S3_BUCKET", "S3_DOWNLOADS", "LOG_FORMAT", "BEHIND_TLS_PROXY"}
_RUN_SETTINGS |= {
    "SIMPLE_DEFAULT_COOLDOWN",
    "CLOSE_RELEASES_AFTER_DAYS",
    "TRUSTED_PROXY_COUNT",
    "TLS_CERT_FILE",
    "TLS_KEY_FILE",
}


def django_check(*args: str, **env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in _RUN_SETTINGS}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def production(tmp_path, **overrides) -> dict[str, str]:
    return {
        "PRODUCTION": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'index.sqlite3'}",
        "ALLOWED_HOSTS": "pypi.example.com",
        "INDEX_DATA_DIR": str(tmp_path),
        **overrides,
    }


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
    assert "FILE_STORAGE='ftp': Must be one of: local, s3." in result.stderr


def test_production_needs_the_database_and_host_names_spelled_out(tmp_path):
    for missing in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"):
        env = production(tmp_path)
        del env[missing]
        result = django_check(**env)
        assert result.returncode != 0
        assert f"PRODUCTION=true needs {missing} set in the environment." in result.stderr


def test_production_refuses_debug(tmp_path):
    result = django_check(**production(tmp_path, DEBUG="true"))
    assert result.returncode != 0
    assert "PRODUCTION=true and DEBUG=true cannot go together." in result.stderr


def test_production_behind_a_proxy_needs_the_proxy_count(tmp_path):
    """Left at 0 behind a proxy, every client shares the proxy's address: anyone could lock
    any user out of signing in (issue 16, item 12)."""
    result = django_check(**production(tmp_path, BEHIND_TLS_PROXY="true"))
    assert result.returncode != 0
    assert "PRODUCTION=true with BEHIND_TLS_PROXY=true needs TRUSTED_PROXY_COUNT" in result.stderr
    assert "Traceback" not in result.stderr
    for count in ("1", "0"):  # 0 as a choice made on purpose
        result = django_check(**production(tmp_path, BEHIND_TLS_PROXY="true", TRUSTED_PROXY_COUNT=count))
        assert result.returncode == 0, result.stderr


_HTTPS_ONLY_CHECKS = ("security.W004", "security.W012", "security.W016")  # HSTS, session and CSRF cookies


def test_gunicorn_serving_tls_means_secure_cookies_and_hsts(tmp_path):
    """TLS_CERT_FILE/TLS_KEY_FILE make gunicorn serve https only, with or without PRODUCTION."""
    key = {"INDEX_DATA_DIR": str(tmp_path), "SECRET_KEY": secrets.token_urlsafe(50)}
    plain = django_check("--deploy", **key)
    assert all(check in plain.stderr for check in _HTTPS_ONLY_CHECKS), plain.stderr
    tls_files = {"TLS_CERT_FILE": str(tmp_path / "cert.pem"), "TLS_KEY_FILE": str(tmp_path / "key.pem")}
    served_over_tls = django_check("--deploy", **key, **tls_files)
    assert not any(check in served_over_tls.stderr for check in _HTTPS_ONLY_CHECKS), served_over_tls.stderr


def test_the_deploy_check_is_clean_in_production(tmp_path):
    result = django_check("--deploy", "--fail-level", "WARNING", **production(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_is_not_clean_without_production(tmp_path):
    """The clean check above comes from the production settings, not from a check that cannot fail."""
    result = django_check(
        "--deploy", "--fail-level", "WARNING", INDEX_DATA_DIR=str(tmp_path), SECRET_KEY=secrets.token_urlsafe(50)
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT


def test_opting_into_hsts_for_subdomains_and_preload_keeps_the_check_clean(tmp_path):
    env = production(tmp_path, HSTS_INCLUDE_SUBDOMAINS="true", HSTS_PRELOAD="true")
    result = django_check("--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stderr


def test_unknown_log_format_and_download_mode_are_refused(tmp_path):
    result = django_check(INDEX_DATA_DIR=str(tmp_path), DEBUG="true", LOG_FORMAT="xml")
    assert "LOG_FORMAT='xml': Must be one of: plain, json." in result.stderr
    result = django_check(INDEX_DATA_DIR=str(tmp_path), DEBUG="true", S3_DOWNLOADS="proxy")
    assert "S3_DOWNLOADS='proxy': Must be one of: redirect, stream." in result.stderr


def test_a_malformed_default_cooldown_stops_the_start(tmp_path):
    result = django_check(INDEX_DATA_DIR=str(tmp_path), DEBUG="true", SIMPLE_DEFAULT_COOLDOWN="3 days")
    assert result.returncode != 0
    assert "SIMPLE_DEFAULT_COOLDOWN:" in result.stderr
    assert django_check(INDEX_DATA_DIR=str(tmp_path), DEBUG="true", SIMPLE_DEFAULT_COOLDOWN="3d").returncode == 0


def test_a_malformed_release_closing_age_stops_the_start(tmp_path):
    for value, reason in (("30d", "Not a valid integer."), ("0", "Must be 1 or more."), ("-3", "Must be 1 or more.")):
        result = django_check(INDEX_DATA_DIR=str(tmp_path), DEBUG="true", CLOSE_RELEASES_AFTER_DAYS=value)
        assert result.returncode != 0
        assert f"CLOSE_RELEASES_AFTER_DAYS={value!r}: {reason}" in result.stderr
    assert django_check(INDEX_DATA_DIR=str(tmp_path), DEBUG="true", CLOSE_RELEASES_AFTER_DAYS="30").returncode == 0


def test_a_negative_statement_timeout_is_refused(tmp_path):
    result = django_check(INDEX_DATA_DIR=str(tmp_path), DEBUG="true", DATABASE_STATEMENT_TIMEOUT_MS="-1")
    assert result.returncode != 0
    assert "DATABASE_STATEMENT_TIMEOUT_MS='-1': Must be 0 (no bound) or more milliseconds." in result.stderr
    assert django_check(INDEX_DATA_DIR=str(tmp_path), DEBUG="true", DATABASE_STATEMENT_TIMEOUT_MS="0").returncode == 0


def migrate(data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _RUN_SETTINGS}
    env.update(INDEX_DATA_DIR=str(data_dir), DEBUG="true")
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        umask=0o022,  # the usual one, which leaves new files and folders readable by everyone
    )
    assert migrated.returncode == 0, migrated.stderr


def test_a_new_sqlite_database_and_its_folder_are_their_owners_only(tmp_path):
    """Password and token hashes, sessions: not for other users of the machine (issue 16, item 13)."""
    existing = tmp_path / "existing"
    existing.mkdir()
    existing.chmod(0o755)
    migrate(existing)
    assert stat.S_IMODE((existing / "index.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE(existing.stat().st_mode) == 0o755  # the operator's folder keeps its mode

    new = tmp_path / "new" / "data"
    migrate(new)
    assert stat.S_IMODE(new.stat().st_mode) == 0o700
    assert stat.S_IMODE((new / "index.sqlite3").stat().st_mode) == 0o600
