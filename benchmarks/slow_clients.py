"""How long /simple/ takes to answer while eight slow clients hold on (issue 16).

Starts the real index the way ``./scripts/serve`` does (gunicorn with the repository's
``gunicorn.conf.py`` as shipped: its worker class, worker count and threads) on a
throw-away SQLite database on 127.0.0.1, uploads a 40 MiB wheel, then, ``--runs`` times:

- connects eight slow clients (``harness/slow_clients.py``): two send a request head a
  line a second, two an upload body a byte a second without credentials, one with a valid
  token, one an XML-RPC body a byte a second, and two ask for the 40 MiB wheel and read
  nothing of it;
- waits ``--settle`` seconds, then asks for ``/simple/`` ``--probes`` times, one after the
  other, each on a new connection, waiting ``--wait`` seconds at most (a probe that gets no
  answer counts as ``--wait`` and ends the run);
- closes the slow clients and waits until ``/simple/`` answers promptly again.

A run's figure is its slowest probe; the summary is the median of the runs.

    .venv/bin/python benchmarks/slow_clients.py
    .venv/bin/python benchmarks/slow_clients.py --runs 3 --wait 30 --source /tmp/older-copy

``--source`` serves another copy of the code (e.g. ``git archive <commit> | tar -x -C
DIR``), with its own ``gunicorn.conf.py``, to compare before and after a change. Prints a
markdown table to stdout, progress to stderr. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from harness import servers  # noqa: E402
from harness.loopback import http_get  # noqa: E402
from harness.servers import free_port, server_environment  # noqa: E402
from harness.slow_clients import BIG_WHEEL_MIB, Trickle, big_wheel, eight_slow_clients, probe, upload  # noqa: E402

STARTUP_TIMEOUT = 60
STOP_TIMEOUT = 15
PASSWORD = "slow clients battery staple"  # noqa: S105 - a throw-away user on a throw-away index
MAKE_USER = f"from django.contrib.auth.models import User\nUser.objects.create_user('ops', password={PASSWORD!r})"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Server:
    """gunicorn serving ``source`` with its own gunicorn.conf.py, on a throw-away SQLite index."""

    def __init__(self, source: Path, base: Path) -> None:
        self.source = source
        self.base = base
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data_dir = base / "data"
        data_dir.mkdir(parents=True)
        self.env = server_environment(data_dir, f"sqlite:///{data_dir / 'index.sqlite3'}")
        # The default file size limit: the big wheel must be accepted.
        self.env.pop("MAX_FILE_SIZE")
        self.log_path = base / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "manage.py", *args],
            cwd=self.source,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    @contextlib.contextmanager
    def running(self) -> Iterator[Server]:
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput", "--verbosity", "0")
        command = servers.gunicorn_command(f"127.0.0.1:{self.port}")
        self.process = servers.start_in_session(command, cwd=self.source, env=self.env, log_path=self.log_path)
        try:
            self._wait_until_ready()
            yield self
        finally:
            servers.stop_group(self.process, STOP_TIMEOUT)

    def _wait_until_ready(self) -> None:
        failure = servers.wait_until_answering(
            self.process, lambda: http_get(f"{self.url}/admin/login/", timeout=2).status == 200, STARTUP_TIMEOUT, 0.2
        )
        if failure is not None:
            raise RuntimeError(f"gunicorn {failure}:\n{self.log_path.read_text(errors='replace')[-3000:]}")

    def workers_summary(self) -> str:
        booted = self.log_path.read_text(errors="replace")
        workers = booted.count("Booting worker")
        kind = re.search(r"Using worker: (\S+)", booted)
        return f"{workers} workers ({kind.group(1) if kind else '?'})"


def one_run(url: str, token: str, download: str, *, settle: float, probes: int, wait: float) -> list[float]:
    clients = eight_slow_clients(url, token, download)
    seconds = []
    with Trickle(clients, limit=settle + probes * wait + 30).running():
        time.sleep(settle)
        for _ in range(probes):
            answer = probe(url, wait=wait)
            seconds.append(answer.seconds if answer.status == 200 else wait)
            if answer.status != 200:
                break
    return seconds


def wait_until_prompt(url: str, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if probe(url, wait=5).seconds < 1:
            return
        time.sleep(1)
    raise RuntimeError("/simple/ did not become prompt again after the slow clients left")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--probes", type=int, default=3, help="requests for /simple/ per run")
    parser.add_argument("--wait", type=float, default=30.0, help="longest wait for one answer, seconds")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds between connecting and probing")
    parser.add_argument("--source", type=Path, default=REPO_ROOT, help="the copy of the code to serve")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="slow-clients-") as tmp:
        base = Path(tmp)
        server = Server(args.source.resolve(), base / "server")
        with server.running():
            server.manage("shell", "--verbosity", "0", "-c", MAKE_USER)
            token = re.search(r"pyidx_\S+", server.manage("create_token", "ops")).group(0)
            log(f"building and uploading a {BIG_WHEEL_MIB} MiB wheel")
            download = upload(server.url, token, big_wheel(base / "dists", "big-download"), "big-download")
            figures = []
            for run in range(1, args.runs + 1):
                seconds = one_run(server.url, token, download, settle=args.settle, probes=args.probes, wait=args.wait)
                figures.append(max(seconds))
                log(f"run {run}: /simple/ answered in {', '.join(f'{s:.3f}' for s in seconds)} s")
                wait_until_prompt(server.url)
            served = server.workers_summary()

    print(f"Served: {args.source.resolve()} with its gunicorn.conf.py, {served}.\n")
    print("| run | slowest /simple/ answer with 8 slow clients connected |")
    print("|---|---|")
    for run, figure in enumerate(figures, 1):
        capped = " (no answer: capped)" if figure >= args.wait else ""
        print(f"| {run} | {figure:.3f} s{capped} |")
    print(f"| median | {statistics.median(figures):.3f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
