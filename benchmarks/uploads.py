"""Uploads as twine sends them: small files for throughput and for changes, one big file for memory.

Every server takes the same multipart form (``:action=file_upload``, twine's protocol): ours
at ``/legacy/`` with an API token, pypiserver at ``/`` and devpi-server at ``/<user>/<index>/``
(both configured to take anonymous uploads, so no login round trip is measured for them).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import secrets
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from client import HOST, BenchmarkError
from processes import REPO_ROOT, Server, memory_kib, reset_peak

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from harness import upload_form  # noqa: E402

MiB = 1024**2
CHUNK = MiB
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass
class Target:
    """Where a server takes uploads."""

    port: int
    path: str
    authorization: str = ""

    @classmethod
    def with_token(cls, port: int, path: str, token: str) -> Target:
        return cls(port, path, "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode())


def _digests(path: Path) -> tuple[str, str, str]:
    sha256, blake2, md5 = hashlib.sha256(), hashlib.blake2b(digest_size=32), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            for digest in (sha256, blake2, md5):
                digest.update(chunk)
    return sha256.hexdigest(), blake2.hexdigest(), md5.hexdigest()


def upload(target: Target, dist: Path, name: str, version: str, timeout: float = 600) -> float:
    """POST one distribution, read from disk 1 MiB at a time; returns the seconds to the answer."""
    sha256, blake2, md5 = _digests(dist)
    fields = upload_form.twine_fields(
        dist.name,
        name,
        version,
        {"md5_digest": md5, "sha256_digest": sha256, "blake2_256_digest": blake2},
        summary="Benchmark distribution made by seed_benchmark",
        license="MIT",
        requires_python=">=3.8",
    )
    form = upload_form.fields_form(fields, dist.name, boundary=secrets.token_hex(16))
    head, tail = form.around_content()
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, target.port, timeout=timeout)
    try:
        connection.putrequest("POST", target.path)
        if target.authorization:
            connection.putheader("Authorization", target.authorization)
        connection.putheader("Content-Type", form.content_type)
        connection.putheader("Content-Length", str(len(head) + dist.stat().st_size + len(tail)))
        connection.endheaders()
        try:
            connection.send(head)
            with dist.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    connection.send(chunk)
            connection.send(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early; its answer is what matters
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise BenchmarkError(f"upload of {dist.name} answered {response.status} {response.reason}: {body[:300]!r}")
        return time.perf_counter() - started
    finally:
        connection.close()


Dist = tuple[Path, str, str]  # (file, project name, version)


@dataclass
class UploadRun:
    """Every file of a new project's versions uploaded, one client or several at a time."""

    clients: int
    files: int
    seconds: float
    # (files the project held when the upload started, ms to the answer), in start order.
    per_upload: list[tuple[int, float]]
    errors: int = 0
    capped: bool = False  # stopped at the time limit before every file was uploaded
    error_samples: list[str] = field(default_factory=list)

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        times = sorted(ms for _, ms in self.per_upload)
        return {
            **self.__dict__,
            "files_per_second": self.files_per_second,
            "latency_p50_ms": times[len(times) // 2] if times else None,
        }


MAX_ERRORS = 10


def growing_project(target: Target, versions: list[list[Dist]], clients: int, time_limit: float) -> UploadRun:
    """Upload every version of a project that does not exist yet, each version's files in order as
    twine sends them (wheel, then sdist), so that the project grows from nothing while it is timed.

    With ``clients`` > 1, that many threads each take the next version not yet taken; the first
    version goes alone, so that the project is made once (several clients making it at the same
    moment is another measurement). Stops after ``time_limit`` seconds or ``MAX_ERRORS`` errors.
    """
    lock = threading.Lock()
    pending = list(versions)
    run = UploadRun(clients, 0, 0.0, [])
    stored = 0
    started = time.monotonic()

    def one_version(dists: list[Dist]) -> None:
        nonlocal stored
        for path, name, version in dists:
            with lock:
                before = stored
            try:
                seconds = upload(target, path, name, version)
            except (BenchmarkError, OSError, http.client.HTTPException) as exc:
                with lock:
                    run.errors += 1
                    if len(run.error_samples) < 3:
                        run.error_samples.append(str(exc)[:200])
                continue
            with lock:
                stored += 1
                run.per_upload.append((before, seconds * 1000))

    def worker() -> None:
        while True:
            with lock:
                if not pending or run.errors >= MAX_ERRORS:
                    return
                if time.monotonic() - started > time_limit:
                    run.capped = True
                    return
                dists = pending.pop(0)
            one_version(dists)

    if pending:
        one_version(pending.pop(0))
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.monotonic() - started
    run.files = stored
    if run.errors >= MAX_ERRORS:
        raise BenchmarkError(f"{run.errors} uploads failed, e.g. {run.error_samples[0]}")
    return run


def by_version(dists: list[Dist]) -> list[list[Dist]]:
    """Files grouped by version, in order (a wheel and its sdist)."""
    grouped: dict[tuple[str, str], list[Dist]] = {}
    for dist in dists:
        grouped.setdefault((dist[1], dist[2]), []).append(dist)
    return list(grouped.values())


# ---------------------------------------------------------------- the big upload


def build_big_wheel(directory: Path, name: str, size: int) -> Path:
    """A valid wheel with one stored member of ``size`` random bytes, written 1 MiB at a time
    (so building a 1 GiB wheel takes a few MiB of memory), RECORD hashed on the way."""
    dist = name.replace("-", "_")
    dist_info = f"{dist}-1.0.dist-info"
    path = directory / f"{dist}-1.0-py3-none-any.whl"
    small = {
        f"{dist}/__init__.py": b'"""Padding for the upload memory benchmark."""\n',
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nSummary: Benchmark distribution made by "
            "seed_benchmark\nLicense: MIT\nRequires-Python: >=3.8\n"
        ).encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: benchmark\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo(f"{dist}/payload.bin", date_time=_ZIP_DATE)
        info.external_attr = 0o644 << 16
        sha = hashlib.sha256()
        left = size
        # force_zip64: zipfile does not know the size up front, and it may pass 4 GiB.
        with archive.open(info, "w", force_zip64=True) as member:
            while left:
                chunk = os.urandom(min(CHUNK, left))
                sha.update(chunk)
                member.write(chunk)
                left -= len(chunk)
        record.append(f"{dist}/payload.bin,{_record_hash(sha.digest())},{size}")
        for member_name, data in small.items():
            info = zipfile.ZipInfo(member_name, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
            record.append(f"{member_name},{_record_hash(hashlib.sha256(data).digest())},{len(data)}")
        record.append(f"{dist_info}/RECORD,,")
        info = zipfile.ZipInfo(f"{dist_info}/RECORD", date_time=_ZIP_DATE)
        info.external_attr = 0o644 << 16
        archive.writestr(info, ("\n".join(record) + "\n").encode())
    return path


def _record_hash(digest: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class BigUpload:
    size: int
    seconds: float
    growth_kib: int  # of the worker that took it: peak minus its RSS before
    baseline_kib: int
    peak_kib: int
    hwm_reset: bool
    notes: list[str] = field(default_factory=list)


class _WorkerSampler(threading.Thread):
    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.peaks = dict.fromkeys(pids, 0)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            for pid in self.peaks:
                self.peaks[pid] = max(self.peaks[pid], memory_kib(pid).get("VmRSS", 0))
            self._stop_event.wait(0.05)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)


def big_upload(server: Server, target: Target, wheel: Path, name: str) -> BigUpload:
    """Upload ``wheel`` while sampling every worker's RSS; growth is that of the worker that grew most
    (the one that took the upload), peak from the samples and the kernel's high-water mark."""
    workers = server.workers() or [server.pid]
    baseline = {pid: memory_kib(pid).get("VmRSS", 0) for pid in workers}
    hwm_reset = all(reset_peak(pid) for pid in workers)
    sampler = _WorkerSampler(workers)
    sampler.start()
    try:
        seconds = upload(target, wheel, name, "1.0", timeout=1800)
        time.sleep(0.2)  # a sample after the answer
    finally:
        sampler.stop()
    notes = []
    growth = {}
    for pid in workers:
        hwm = memory_kib(pid).get("VmHWM", 0) if hwm_reset else 0
        peak = max(sampler.peaks[pid], hwm)
        if not peak:
            notes.append(f"worker {pid} went away during the upload")
            continue
        growth[pid] = (peak - baseline[pid], baseline[pid], peak)
    if not growth:
        raise BenchmarkError("no worker left to measure after the big upload")
    grown, base, peak = max(growth.values())
    if not hwm_reset:
        notes.append("could not reset VmHWM (/proc/<pid>/clear_refs): peak from 50 ms samples only")
    return BigUpload(wheel.stat().st_size, seconds, grown, base, peak, hwm_reset, notes)
