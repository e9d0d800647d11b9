"""Test settings: the real settings, in debug, with a throw-away file store."""

import os
import tempfile

os.environ.setdefault("DEBUG", "true")
# A folder of this process's own, always: pytest-xdist workers inherit the
# controller's environment, and a shared folder let one worker's cleanup delete
# another's files mid-upload (a developer's own data folder must not be touched either).
os.environ["INDEX_DATA_DIR"] = tempfile.mkdtemp(prefix="pyindex-test-")
# Keys of this process's own in a shared Redis, for the same reason: tests empty the cache between
# them (tests/caches.py), and a worker must not empty another's page locks or throttle counters.
os.environ["CACHE_KEY_PREFIX"] = f"pyindex-test-{os.getpid()}"
# Open reads: most tests are about what a reader sees, not about credentials. The private
# index's tests (tests/functional/test_private_reads.py and friends) set "authenticated".
os.environ["READ_ACCESS"] = "public"

if os.environ.get("FILE_STORAGE", "").strip().lower() == "s3":
    from harness.s3 import configure_test_run

    configure_test_run()

from indexsite.settings import *  # noqa: E402, F403

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; production keeps PBKDF2

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns when it is missing
# Downloads are counted only where a test turns it on (tests/functional/test_download_counts.py),
# with no flushing thread: such tests flush themselves, in their own transaction; counts left
# by other tests would be written at exit, into a database gone by then.
DOWNLOAD_COUNTS = False
DOWNLOAD_COUNT_FLUSH_SECONDS = 0
