"""One HTTP request at a time, timed: what every latency figure of the suite is made of."""

from __future__ import annotations

import http.client
import math
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"
JSON_V1 = "application/vnd.pypi.simple.v1+json"
GZIP = {"Accept-Encoding": "gzip"}


class BenchmarkError(Exception):
    """The benchmark could not run (as opposed to a server being slow)."""


@dataclass(frozen=True)
class Request:
    """What to send; the same object drives the Python client and wrk."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: bytes = b""
    status: int = 200

    def with_headers(self, **extra: str) -> Request:
        headers = {**self.headers, **{name.replace("_", "-"): value for name, value in extra.items()}}
        return Request(self.path, headers, self.method, self.body, self.status)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


def fetch(port: int, request: Request, timeout: float = 120) -> Reply:
    """One request on a fresh connection (sync gunicorn workers close every connection anyway),
    timed from connect to the last body byte."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(request.method, request.path, body=request.body or None, headers=request.headers)
        response = connection.getresponse()
        body = response.read()
        seconds = time.perf_counter() - started
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body, seconds)
    finally:
        connection.close()


def expect(port: int, request: Request, status: int | None = None, timeout: float = 120) -> Reply:
    reply = fetch(port, request, timeout)
    wanted = request.status if status is None else status
    if reply.status != wanted:
        raise BenchmarkError(
            f"{request.method} {request.path} answered {reply.status}, expected {wanted}: {reply.body[:300]!r}"
        )
    return reply


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


@dataclass
class Latency:
    """Milliseconds."""

    p50: float
    p99: float
    samples: int
    capped: bool = False  # stopped by the time budget before reaching the planned count

    @classmethod
    def of(cls, seconds: list[float], capped: bool = False) -> Latency:
        return cls(percentile(seconds, 50) * 1000, percentile(seconds, 99) * 1000, len(seconds), capped)


def sequential(port: int, request: Request, count: int, budget: float | None = None, at_least: int = 3) -> Latency:
    """``count`` requests one after another; with a ``budget`` (seconds), fewer once it is spent
    (but ``at_least``), so a peer that takes seconds per request cannot stall the suite."""
    times: list[float] = []
    started = time.monotonic()
    for _ in range(count):
        times.append(expect(port, request).seconds)
        if budget is not None and len(times) >= at_least and time.monotonic() - started > budget:
            return Latency.of(times, capped=len(times) < count)
    return Latency.of(times)
