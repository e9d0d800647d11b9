"""Requests per second at N connections: wrk when it is installed, else a Python generator."""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from client import HOST, BenchmarkError, Request, fetch
from processes import Server


@dataclass
class Load:
    rps: float
    requests: int
    errors: int
    seconds: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    server_cpu_ms: float | None = None  # server CPU time per request answered


def _load_worker(port: int, request: Request, start: float, end: float) -> tuple[int, int]:
    """One connection's loop, in its own process: requests completed inside [start, end], errors."""
    while time.time() < start:
        time.sleep(0.001)
    done = errors = 0
    while time.time() < end:
        try:
            reply = fetch(port, request, timeout=60)
        except OSError:
            errors += 1
            continue
        if time.time() > end:
            break
        if reply.status == request.status:
            done += 1
        else:
            errors += 1
    return done, errors


class LoadTool:
    def __init__(self, connections: int, prefer_python: bool = False) -> None:
        self.connections = connections
        self.wrk = None if prefer_python else shutil.which("wrk")
        self.threads = max(1, min(connections, os.cpu_count() or 1))

    @property
    def description(self) -> str:
        if self.wrk:
            version = subprocess.run([self.wrk, "-v"], capture_output=True, text=True, check=False)  # noqa: S603
            text = (version.stdout or version.stderr).strip()
            name = text.splitlines()[0].split("[")[0].strip() if text else "wrk"
            return f"{name} ({self.threads} threads, {self.connections} connections)"
        return f"a Python load generator ({self.connections} processes, one connection each)"

    def run(self, port: int, request: Request, seconds: float, server: Server | None = None) -> Load:
        cpu_before = server.cpu_seconds() if server else None
        load = self._wrk(port, request, seconds) if self.wrk else self._python(port, request, seconds)
        if cpu_before is not None and load.requests:
            load.server_cpu_ms = (server.cpu_seconds() - cpu_before) / load.requests * 1000
        return load

    def _wrk(self, port: int, request: Request, seconds: float) -> Load:
        duration = max(1, round(seconds))
        command = [self.wrk, f"-t{self.threads}", f"-c{self.connections}", f"-d{duration}s", "--latency"]
        command += ["--timeout", "60s"]
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            # Method, body and headers through a script: -H cannot send a POST body.
            script.write(f'wrk.method = "{request.method}"\n')
            if request.body:
                script.write(f"wrk.body = [==[{request.body.decode()}]==]\n")
            for name, value in request.headers.items():
                script.write(f'wrk.headers["{name}"] = "{value}"\n')
        command += ["-s", script.name, f"http://{HOST}:{port}{request.path}"]
        try:
            result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
                command, capture_output=True, text=True, timeout=duration + 90, check=False
            )
        finally:
            os.unlink(script.name)
        out = result.stdout
        if result.returncode != 0 or "Requests/sec" not in out:
            raise BenchmarkError(f"wrk failed ({result.returncode}):\n{out}\n{result.stderr}")
        total = int(re.search(r"(\d+) requests in", out).group(1))
        errors = 0
        if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
            errors += int(match.group(1))
        if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
            # A server closing the connection after each response (sync workers) shows as a read
            # error without a lost response; connect, write and timeout errors are real.
            errors += int(match.group(1)) + int(match.group(3)) + int(match.group(4))
        # wrk counts only requests answered within the run, so a slow peer's rate is a floor.
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        return Load(rps, total, errors, duration, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"))

    def _python(self, port: int, request: Request, seconds: float) -> Load:
        start = time.time() + 0.5  # every process connected and waiting before the clock starts
        end = start + seconds
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(self.connections, mp_context=context) as pool:
            futures = [pool.submit(_load_worker, port, request, start, end) for _ in range(self.connections)]
            results = [future.result(timeout=seconds + 120) for future in futures]
        done = sum(r[0] for r in results)
        return Load(done / seconds, done, sum(r[1] for r in results), seconds)


def _wrk_ms(out: str, label: str) -> float | None:
    match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if match is None:
        return None
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
