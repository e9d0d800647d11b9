"""Memory benchmark of the upload endpoint: how much does one big upload grow a gunicorn worker?

Runs the real index (production settings, gunicorn with ONE sync worker, SQLite and
local storage in a throw-away folder), builds a valid wheel of ``--size-mib`` MiB on
disk without ever holding it in memory, and streams it to ``POST /legacy/`` as a
multipart form over a raw HTTP connection, while a thread samples the worker's RSS
from ``/proc/<pid>/status`` every 50 ms. The worker's peak RSS is also read from the
kernel's own high-water mark (VmHWM), reset after the warm-up so it covers the big
upload only.

    .venv/bin/python benchmarks/upload_memory.py                 # 1 GiB, once
    .venv/bin/python benchmarks/upload_memory.py --runs 3        # three servers, one wheel
    .venv/bin/python benchmarks/upload_memory.py --size-mib 64   # smoke check

Exits 1 when an upload is not answered 200 or the worker grew by more than
``--max-growth-mib`` (default 64), 2 when the benchmark itself could not run.
Linux only (it reads /proc).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import http.client
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# The end-to-end harness's server helpers (it imports pytest, which the venv has).
from tests.builders import build_wheel, metadata_text, wheel_tags  # noqa: E402
from tests.e2e.helpers import IndexServer, free_port, http_get, server_environment  # noqa: E402

MiB = 1024**2
CHUNK = MiB
SAMPLE_INTERVAL = 0.05
STARTUP_TIMEOUT = 30
STOP_TIMEOUT = 15
BENCH_NAME = "upload-memory-bench"
WARMUP_NAME = "upload-memory-warmup"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class BenchmarkError(Exception):
    """The benchmark could not run (as opposed to the index failing it)."""


class _Timeout(BaseException):
    """The whole run took longer than --timeout (a BaseException so nothing swallows it)."""


# ---------------------------------------------------------------- the big wheel


def _record_hash(digest: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def build_big_wheel(directory: Path, size: int) -> Path:
    """A valid pure-Python wheel holding one stored (uncompressed) member of ``size`` random bytes.

    The member is streamed into the zip in 1 MiB chunks and hashed for RECORD on the
    way, so building a 1 GiB wheel takes a few MiB of memory.
    """
    dist = BENCH_NAME.replace("-", "_")
    version = "1.0"
    tag = "py3-none-any"
    dist_info = f"{dist}-{version}.dist-info"
    path = directory / f"{dist}-{version}-{tag}.whl"
    small = {
        f"{dist}/__init__.py": b'"""Padding for the upload memory benchmark."""\n',
        f"{dist_info}/METADATA": metadata_text(BENCH_NAME, version, summary="Upload memory benchmark").encode(),
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: pyidx-benchmark\nRoot-Is-Purelib: true\n"
            + "".join(f"Tag: {one}\n" for one in wheel_tags(tag))
        ).encode(),
    }
    big_name = f"{dist}/payload.bin"
    record_lines = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo(big_name, date_time=_ZIP_DATE)
        info.compress_type = zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        sha = hashlib.sha256()
        left = size
        # force_zip64: the size is not known to zipfile up front, and may pass 4 GiB.
        with archive.open(info, "w", force_zip64=True) as member:
            while left:
                chunk = os.urandom(min(CHUNK, left))
                sha.update(chunk)
                member.write(chunk)
                left -= len(chunk)
        record_lines.append(f"{big_name},{_record_hash(sha.digest())},{size}")
        for name, data in small.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
            record_lines.append(f"{name},{_record_hash(hashlib.sha256(data).digest())},{len(data)}")
        record_lines.append(f"{dist_info}/RECORD,,")
        info = zipfile.ZipInfo(f"{dist_info}/RECORD", date_time=_ZIP_DATE)
        info.external_attr = 0o644 << 16
        archive.writestr(info, ("\n".join(record_lines) + "\n").encode())
    return path


def file_digests(path: Path) -> tuple[str, str]:
    sha256, blake2 = hashlib.sha256(), hashlib.blake2b(digest_size=32)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha256.update(chunk)
            blake2.update(chunk)
    return sha256.hexdigest(), blake2.hexdigest()


# ---------------------------------------------------------------- /proc


def read_status(pid: int) -> dict[str, int]:
    """The memory lines of /proc/<pid>/status, in KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                values[key] = int(rest.split()[0])
    return values


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    with contextlib.suppress(OSError):
        for task in task_dir.iterdir():
            with contextlib.suppress(OSError):
                found += [int(child) for child in (task / "children").read_text().split()]
    if found:
        return found
    # Kernels without CONFIG_PROC_CHILDREN: scan every process's parent.
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            # The command name may contain spaces and parentheses; fields start after the last ')'.
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    # utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> bool:
    """Reset the kernel's VmHWM to the current RSS (Linux 4.0+, same user)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


class Sampler(threading.Thread):
    """Reads the worker's VmRSS every ``interval`` seconds until stopped."""

    def __init__(self, pid: int, interval: float = SAMPLE_INTERVAL) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.error: str | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.samples.append((time.monotonic(), read_status(self.pid)))
            except (OSError, ValueError) as exc:
                self.error = f"worker {self.pid} vanished: {exc}"
                return
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def peak(self, key: str, start: float = 0.0, end: float = float("inf")) -> int:
        return max((s[key] for t, s in self.samples if start <= t <= end and key in s), default=0)


# ---------------------------------------------------------------- the server


# Every server started, so that main() can stop one whose run was cut short mid-cleanup.
_STARTED: list[BenchServer] = []


class BenchServer(IndexServer):
    """The e2e harness's server, with one worker so that its RSS is the one to watch."""

    def _start(self) -> None:
        _STARTED.append(self)
        command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
        command += ["--bind", self.url.removeprefix("http://"), "--workers", "1"]
        command += ["--no-control-socket", "indexsite.wsgi"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
                command, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def start(self) -> None:
        self._start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchmarkError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                status = http_get(f"{self.url}/admin/login/", timeout=2).status
                if status == 200:
                    return
                if status >= 500:
                    raise BenchmarkError(f"GET /admin/login/ answered {status}:\n{self.log_tail()}")
            time.sleep(0.1)
        raise BenchmarkError(f"gunicorn did not answer within {STARTUP_TIMEOUT}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM to the master, then SIGKILL to its whole process group (never fails loudly)."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # the group id is the master's pid (new session)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)
        self.process = None

    def worker_pid(self) -> int:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        workers: list[int] = []
        while time.monotonic() < deadline:
            workers = children_of(self.process.pid)
            if len(workers) == 1:
                return workers[0]
            time.sleep(0.1)
        raise BenchmarkError(f"expected one gunicorn worker under {self.process.pid}, found {workers}")


def make_server(base: Path, max_file_size: int) -> BenchServer:
    data_dir = base / "data"
    server_tmp = base / "server-tmp"
    server_tmp.mkdir(parents=True)
    env = server_environment(data_dir, f"sqlite:///{data_dir / 'index.sqlite3'}")
    env.update(
        ALLOWED_HOSTS="127.0.0.1",
        MAX_FILE_SIZE=str(max_file_size),
        MAX_PROJECT_SIZE=str(4 * max_file_size),
        ALLOW_LOCAL_VERSIONS="false",
        PROJECT_CREATION="users",
        # Django's TemporaryUploadedFile goes to the default temp folder: keep it in the throw-away one.
        TMPDIR=str(server_tmp),
    )
    server = BenchServer(
        url=f"http://127.0.0.1:{free_port()}", env=env, data_dir=data_dir, log_path=base / "gunicorn.log"
    )
    # migrate and collectstatic (the admin pages need the static manifest), as the e2e harness does.
    server.prepare()
    return server


# ---------------------------------------------------------------- the upload


@dataclass
class Response:
    status: int
    reason: str
    body: str


@dataclass
class UploadTiming:
    started: float = 0.0
    body_sent: float = 0.0
    answered: float = 0.0


def _field(boundary: str, name: str, value: str) -> bytes:
    return f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


def stream_upload(
    url: str, auth: str, wheel: Path, name: str, version: str, timing: UploadTiming, timeout: float
) -> Response:
    """POST the wheel to /legacy/ as twine would, reading it from disk 1 MiB at a time."""
    sha256, blake2 = file_digests(wheel)
    boundary = secrets.token_hex(16)
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.1",
        "name": name,
        "version": version,
        "summary": "Upload memory benchmark",
        "filetype": "bdist_wheel",
        "pyversion": "py3",
        "sha256_digest": sha256,
        "blake2_256_digest": blake2,
    }
    head = b"".join(_field(boundary, key, value) for key, value in fields.items())
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="{wheel.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = wheel.stat().st_size
    host_port = url.removeprefix("http://")
    connection = http.client.HTTPConnection(host_port, timeout=timeout)
    try:
        connection.putrequest("POST", "/legacy/")
        connection.putheader("Authorization", auth)
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(len(head) + size + len(tail)))
        connection.putheader("User-Agent", "pyidx-upload-memory-benchmark")
        timing.started = time.monotonic()
        connection.endheaders()
        try:
            connection.send(head)
            with wheel.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    connection.send(chunk)
            connection.send(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early; its answer is what matters
        timing.body_sent = time.monotonic()
        response = connection.getresponse()
        body = response.read().decode("utf-8", errors="replace")
        timing.answered = time.monotonic()
        return Response(response.status, response.reason, body.strip())
    finally:
        connection.close()


# ---------------------------------------------------------------- one run


@dataclass
class RunResult:
    size: int
    response: Response
    baseline_kib: int
    peak_sampled_kib: int
    peak_while_sending_kib: int
    peak_after_sending_kib: int
    vmhwm_kib: int
    hwm_reset: bool
    anon_baseline_kib: int
    anon_peak_kib: int
    file_peak_kib: int
    seconds: float
    send_seconds: float
    worker_cpu_seconds: float
    samples: int
    worker_restarted: bool
    notes: list[str] = field(default_factory=list)

    @property
    def peak_kib(self) -> int:
        # VmHWM sees spikes between two samples; without the reset it includes the warm-up.
        return max(self.peak_sampled_kib, self.vmhwm_kib if self.hwm_reset else 0)

    @property
    def growth_mib(self) -> float:
        return (self.peak_kib - self.baseline_kib) / 1024

    @property
    def throughput(self) -> float:
        return self.size / MiB / self.seconds if self.seconds else 0.0


def one_run(base: Path, wheel: Path, max_file_size: int, timeout: float) -> RunResult:
    server = make_server(base, max_file_size)
    password = secrets.token_urlsafe(16)
    server.shell(
        "from django.contrib.auth import get_user_model\n"
        f"get_user_model().objects.create_user('bench', password={password!r})\n"
    )
    token = server.manage("create_token", "bench").strip()
    auth = "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()
    try:
        server.start()
        worker = server.worker_pid()
        # Warm-up: the admin page and a small upload load every module the big upload needs.
        warm_dir = base / "warmup"
        warm = build_wheel(warm_dir, WARMUP_NAME, "1.0")
        http_get(f"{server.url}/admin/login/")
        answer = stream_upload(server.url, auth, warm, WARMUP_NAME, "1.0", UploadTiming(), timeout)
        if answer.status != 200:
            raise BenchmarkError(f"warm-up upload answered {answer.status} {answer.reason}: {answer.body}")
        time.sleep(0.5)
        baseline = read_status(worker)
        cpu_before = cpu_seconds(worker)
        hwm_reset = reset_peak(worker)
        sampler = Sampler(worker)
        sampler.start()
        timing = UploadTiming()
        try:
            response = stream_upload(server.url, auth, wheel, BENCH_NAME, "1.0", timing, timeout)
            time.sleep(3 * SAMPLE_INTERVAL)  # one more sample after the answer
        finally:
            sampler.stop()
        try:
            after = read_status(worker)
            cpu_used = cpu_seconds(worker) - cpu_before
            restarted = worker not in children_of(server.process.pid)
        except OSError:
            after, cpu_used, restarted = {}, 0.0, True
        notes = []
        if sampler.error:
            notes.append(sampler.error)
        if restarted:
            notes.append("the worker was replaced during the upload (killed or timed out?)")
        if not hwm_reset:
            notes.append("could not reset VmHWM (/proc/<pid>/clear_refs): it includes the warm-up")
        if response.status != 200:
            notes.append("gunicorn log tail:\n" + server.log_tail(20))
        return RunResult(
            size=wheel.stat().st_size,
            response=response,
            baseline_kib=baseline["VmRSS"],
            peak_sampled_kib=sampler.peak("VmRSS"),
            peak_while_sending_kib=sampler.peak("VmRSS", end=timing.body_sent),
            peak_after_sending_kib=sampler.peak("VmRSS", start=timing.body_sent),
            vmhwm_kib=after.get("VmHWM", 0),
            hwm_reset=hwm_reset,
            anon_baseline_kib=baseline.get("RssAnon", 0),
            anon_peak_kib=sampler.peak("RssAnon"),
            file_peak_kib=sampler.peak("RssFile"),
            seconds=timing.answered - timing.started,
            send_seconds=timing.body_sent - timing.started,
            worker_cpu_seconds=cpu_used,
            samples=len(sampler.samples),
            worker_restarted=restarted,
            notes=notes,
        )
    finally:
        server.stop()


# ---------------------------------------------------------------- report


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def report(results: list[RunResult], size_mib: int, max_growth: float) -> str:
    lines = [
        f"Upload of a {size_mib} MiB wheel to POST /legacy/, gunicorn with 1 sync worker "
        f"(RSS sampled every {int(SAMPLE_INTERVAL * 1000)} ms; growth limit {max_growth:g} MiB)",
        "",
        "| run | status | baseline RSS (MiB) | peak RSS (MiB) | growth (MiB) | VmHWM (MiB) | "
        "peak while receiving / after (MiB) | anon / file RSS peak (MiB) | time (s) | worker CPU (s) | MB/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for number, run in enumerate(results, 1):
        lines.append(
            f"| {number} | {run.response.status} | {_mib(run.baseline_kib)} | {_mib(run.peak_kib)} | "
            f"{run.growth_mib:.1f} | {_mib(run.vmhwm_kib)}{'' if run.hwm_reset else ' (lifetime)'} | "
            f"{_mib(run.peak_while_sending_kib)} / {_mib(run.peak_after_sending_kib)} | "
            f"{_mib(run.anon_peak_kib)} / {_mib(run.file_peak_kib)} | "
            f"{run.seconds:.1f} ({run.send_seconds:.1f} sending) | {run.worker_cpu_seconds:.1f} | "
            f"{run.throughput:.0f} |"
        )
    if len(results) > 1:
        growths = [run.growth_mib for run in results]
        speeds = [run.throughput for run in results]
        lines += [
            "",
            f"Median growth {statistics.median(growths):.1f} MiB (runs: {', '.join(f'{g:.1f}' for g in growths)}); "
            f"median throughput {statistics.median(speeds):.0f} MB/s.",
        ]
    lines.append("")
    for number, run in enumerate(results, 1):
        lines.append(f"Run {number}: HTTP {run.response.status} {run.response.reason}: {run.response.body}")
        lines += [f"  note: {note}" for note in run.notes]
    lines.append("(MB/s is MiB per second, from the first byte sent to the answer read.)")
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the big wheel's payload (default 1024)")
    parser.add_argument("--max-growth-mib", type=float, default=64, help="fail above this RSS growth (default 64)")
    parser.add_argument("--runs", type=int, default=1, help="uploads, each to a fresh server (default 1)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for the whole benchmark (default 1800)")
    parser.add_argument("--tmpdir", type=Path, default=None, help="where the throw-away folder goes (default: $TMPDIR)")
    args = parser.parse_args(argv)
    if args.size_mib < 1 or args.runs < 1:
        parser.error("--size-mib and --runs must be at least 1")
    if not Path("/proc/self/status").exists():
        print("This benchmark reads /proc and runs on Linux only.", file=sys.stderr)
        return 2

    size = args.size_mib * MiB
    # Room for the zip's own bytes and the form fields around the payload.
    max_file_size = max(2 * 1024 * MiB, 2 * size)
    base = Path(tempfile.mkdtemp(prefix="pyidx-upload-bench-", dir=args.tmpdir))
    need = 3 * size + 64 * MiB  # the wheel, the server's temporary copy, the stored copy
    free = shutil.disk_usage(base).free
    if free < need:
        shutil.rmtree(base, ignore_errors=True)
        print(
            f"Not enough disk under {base.parent}: {free // MiB} MiB free, {need // MiB} MiB needed.", file=sys.stderr
        )
        return 2

    def on_alarm(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(max(1, int(args.timeout)))
    results: list[RunResult] = []
    try:
        started = time.monotonic()
        print(f"Building a {args.size_mib} MiB wheel in {base} ...", file=sys.stderr, flush=True)
        wheel = build_big_wheel(base, size)
        print(
            f"  {wheel.name}: {wheel.stat().st_size / MiB:.1f} MiB in {time.monotonic() - started:.1f}s",
            file=sys.stderr,
            flush=True,
        )
        for number in range(1, args.runs + 1):
            run_dir = base / f"run-{number}"
            print(f"Run {number}/{args.runs}: server in {run_dir} ...", file=sys.stderr, flush=True)
            try:
                result = one_run(run_dir, wheel, max_file_size, args.timeout)
            finally:
                shutil.rmtree(run_dir, ignore_errors=True)  # the stored copy: free the disk for the next run
            print(
                f"  HTTP {result.response.status}, growth {result.growth_mib:.1f} MiB, "
                f"{result.seconds:.1f}s ({result.throughput:.0f} MB/s)",
                file=sys.stderr,
                flush=True,
            )
            results.append(result)
    except _Timeout:
        print(f"The benchmark took longer than {args.timeout:g}s and was stopped.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except (BenchmarkError, RuntimeError, OSError, http.client.HTTPException) as exc:
        print(f"The benchmark could not run: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        for server in _STARTED:
            server.stop()
        shutil.rmtree(base, ignore_errors=True)

    print(report(results, args.size_mib, args.max_growth_mib))
    failed = [
        number
        for number, run in enumerate(results, 1)
        if run.response.status != 200 or run.growth_mib > args.max_growth_mib or run.worker_restarted
    ]
    if failed:
        print(f"\nFAILED: run(s) {', '.join(map(str, failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
