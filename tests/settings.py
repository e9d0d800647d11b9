"""Test settings: the real settings, in debug, with a throw-away file store."""

import os
import tempfile

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("INDEX_DATA_DIR", tempfile.mkdtemp(prefix="pyindex-test-"))

from indexsite.settings import *  # noqa: E402, F403

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; production keeps PBKDF2

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns when it is missing
