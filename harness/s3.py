"""A real S3-compatible server for the tests: moto in server mode on 127.0.0.1.

``FILE_STORAGE=s3 ./scripts/test`` runs the whole suite on S3 storage: the test
settings start one server for the run and give the test process, and every index server the end-to-end tests start, a
bucket of its own. Tests that need S3 in any run use :func:`moto_server`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

# moto accepts any key; botocore insists on having one.
CREDENTIALS = {"S3_ACCESS_KEY_ID": "test-key", "S3_SECRET_ACCESS_KEY": "test-secret", "S3_REGION": "us-east-1"}
STARTUP_TIMEOUT = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(endpoint: str, process: subprocess.Popen, log: Path) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(OSError):
            with opener.open(endpoint + "/", timeout=2):
                return
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"moto_server did not answer within {STARTUP_TIMEOUT}s:\n{log.read_text(errors='replace')}")


def start_moto_server() -> tuple[str, subprocess.Popen]:
    """Start moto's S3 server on a free loopback port; return its endpoint URL and process."""
    port = _free_port()
    log = Path(tempfile.mkstemp(prefix="moto-", suffix=".log")[1])
    executable = Path(sysconfig.get_path("scripts")) / "moto_server"
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "moto.server"]
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own test dependency
            [*command, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    endpoint = f"http://127.0.0.1:{port}"
    _wait_until_up(endpoint, process, log)
    return endpoint, process


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    endpoint, process = start_moto_server()
    try:
        yield endpoint
    finally:
        process.terminate()
        process.wait(10)


def client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["S3_SECRET_ACCESS_KEY"],
        region_name=CREDENTIALS["S3_REGION"],
    )


def new_bucket(endpoint: str, label: str = "pyindex") -> str:
    name = f"{label}-{secrets.token_hex(6)}"
    client(endpoint).create_bucket(Bucket=name)
    return name


def storage_environment(endpoint: str, bucket: str) -> dict[str, str]:
    """The index's settings for S3 storage in ``bucket``."""
    return {"FILE_STORAGE": "s3", "S3_ENDPOINT_URL": endpoint, "S3_BUCKET": bucket, **CREDENTIALS}


def configure_test_run() -> None:
    """Called by tests.settings, before the index's settings are read, when FILE_STORAGE=s3."""
    endpoint, process = start_moto_server()
    atexit.register(process.terminate)
    os.environ.update(storage_environment(endpoint, new_bucket(endpoint, "pyindex-test")))
    # The download tests read bodies through the app; redirects have tests of their own.
    os.environ.setdefault("S3_DOWNLOADS", "stream")


def run_endpoint() -> str | None:
    """The S3 server of this test run, when the run is on S3."""
    return os.environ.get("S3_ENDPOINT_URL") if os.environ.get("FILE_STORAGE") == "s3" else None
