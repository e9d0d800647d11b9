"""The index under a real gunicorn, for end-to-end tests and benchmarks: start, wait until it answers, stop.

Each caller keeps its own server class (its settings, its errors); what they share is here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def gunicorn_command(bind: str, *flags: str) -> list[str]:
    """The index served as ``./scripts/serve`` does (the checkout's gunicorn.conf.py: run it from there),
    bound to ``bind``; ``flags`` override the file."""
    return [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", bind, *flags, "indexsite.wsgi"]


def start_in_session(command: list[str], *, cwd: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start ``command``, its output appended to ``log_path``, in a session of its own: a master
    and its workers can then be killed together (the group id is the master's pid)."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own commands, fixed arguments
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_until_answering(
    process: subprocess.Popen, is_ready: Callable[[], bool], timeout: float, interval: float = 0.1
) -> str | None:
    """Ask ``is_ready`` until it says yes (None), the process exits or ``timeout`` seconds pass (why not, in words).

    Connection errors count as not ready yet: a server refuses, resets or times out while it boots.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"exited with {process.returncode}"
        with contextlib.suppress(OSError):
            if is_ready():
                return None
        time.sleep(interval)
    return f"did not answer within {timeout:g}s"


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process's whole group; the group id stays reserved while any member lives."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def stop_group(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM to the master (graceful: it waits for its workers), then SIGKILL to what is left; never raises."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    kill_group(process)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout)
