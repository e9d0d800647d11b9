"""Servers as process trees: start, wait until they answer, sample their memory and CPU, stop.

Linux only: CPU time, RSS and a gunicorn master's workers come from ``/proc``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from client import HOST, BenchmarkError, Request, fetch

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from harness import servers  # noqa: E402

STARTUP_TIMEOUT = 120
STOP_TIMEOUT = 15
COMMAND_TIMEOUT = 1200


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_command(
    command: list[str], env: dict[str, str] | None = None, cwd: Path = REPO_ROOT, stdin: str | None = None
) -> str:
    result = subprocess.run(  # noqa: S603 - our own commands, fixed arguments
        command, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )
    if result.returncode != 0:
        raise BenchmarkError(
            f"{' '.join(map(str, command[:4]))} ... exited {result.returncode}\n--- stdout\n{result.stdout[-3000:]}\n"
            f"--- stderr\n{result.stderr[-3000:]}"
        )
    return result.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- /proc


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_kib(pid: int, name: str, keys: tuple[str, ...]) -> dict[str, int]:
    """The ``keys`` of ``/proc/<pid>/<name>`` (``Key:  1234 kB`` lines), in KiB (empty once it is gone)."""
    values = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/{name}") as lines:
        for line in lines:
            key, _, rest = line.partition(":")
            if key in keys:
                values[key] = int(rest.split()[0])
    return values


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB (empty once it is gone)."""
    return proc_kib(pid, "status", ("VmRSS", "VmHWM"))


def reset_peak(pid: int) -> bool:
    """Reset the kernel's VmHWM to the current RSS (Linux 4.0+, same user)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------- servers

_STARTED: list[Server] = []


@dataclass
class Server:
    """A server process (and, for gunicorn, its workers) in a session of its own."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    port: int
    cwd: Path = REPO_ROOT
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, ready: Request, timeout: float = STARTUP_TIMEOUT) -> float:
        """Start and wait for ``ready`` to answer below 500; returns the seconds that took."""
        _STARTED.append(self)
        started = time.monotonic()
        self.process = servers.start_in_session(self.command, cwd=self.cwd, env=self.env, log_path=self.log_path)
        failure = servers.wait_until_answering(
            self.process, lambda: fetch(self.port, ready, timeout=60).status < 500, timeout
        )
        if failure is not None:
            raise BenchmarkError(f"{self.name} {failure}:\n{self.log_tail()}")
        return time.monotonic() - started

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def pids(self) -> list[int]:
        """The master and its workers (for a single-process server, itself)."""
        return [self.pid, *children_of(self.pid)] if self.pid else []

    def workers(self) -> list[int]:
        return children_of(self.pid) if self.pid else []

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def rss_kib(self) -> int:
        return sum(memory_kib(pid).get("VmRSS", 0) for pid in self.pids())

    def stop(self) -> None:
        """SIGTERM to the master, then SIGKILL to its whole process group; never raises."""
        if self.process is not None:
            servers.stop_group(self.process, STOP_TIMEOUT)
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def stop_all() -> None:
    for server in _STARTED:
        server.stop()


class RssSampler(threading.Thread):
    """The sum of a server's processes' RSS every ``interval`` seconds; ``peak_kib`` is the highest."""

    def __init__(self, server: Server, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.interval = interval
        self.peak_kib = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak_kib = max(self.peak_kib, self.server.rss_kib())
            self._stop_event.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop_event.set()
        self.join(5)
