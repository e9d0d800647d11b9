"""How the big-project page and legacy JSON grow with the number of releases, warm and after a change.

One project per size (``scale-100`` ... ``scale-20000``, seeded like ccxt), the same in every
server. "After a change" is one new wheel uploaded through the server's upload endpoint, then
the page and the legacy JSON fetched once each: the first answer that has to include it.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from client import GZIP, Request, expect, sequential
from endpoints import HTML, timed_first
from load import LoadTool
from processes import Server, log

SIZES = (100, 1000, 5000, 20000)
QUICK_SIZES = (100, 500, 2000)


def project_name(size: int) -> str:
    return f"scale-{size}"


@dataclass
class ScaleSettings:
    requests: int  # warm sequential requests
    repeats: int  # changes
    budget: float | None  # seconds per warm run (slow peers)
    slow_seconds: float = 2.0  # a request slower than this: one change only
    body_sizes: bool = True  # two more warm requests per part, for its plain and gzip sizes (ours)


def measure_size(
    port: int,
    page: Request,
    legacy: Request,
    change: Callable[[], float],
    settings: ScaleSettings,
    server: Server | None = None,
    tool: LoadTool | None = None,
) -> dict:
    """Warm p50 of both (and the server's CPU time per warm request), then ``repeats`` changes
    each followed by one request of each."""
    result: dict = {}
    slowest = 0.0
    for name, request in (("page", page), ("legacy", legacy)):
        reply = expect(port, request, timeout=900)
        first = reply.seconds
        if first < settings.slow_seconds:
            first = max(first, expect(port, request, timeout=900).seconds)
        slowest = max(slowest, first)
        if tool is not None and first < 1:
            # Every worker builds the page once before the warm figures (as in the main runs).
            tool.run(port, request, 1)
        at_least = 1 if first > settings.slow_seconds else 2
        cpu_before = server.cpu_seconds() if server else 0.0
        latency = sequential(port, request, settings.requests, budget=settings.budget, at_least=at_least)
        result[name] = {"warm_p50": latency.p50, "warm_samples": latency.samples}
        if server is not None:
            result[name]["warm_cpu_ms"] = (server.cpu_seconds() - cpu_before) / latency.samples * 1000
        if settings.body_sizes:
            # From warm answers: the first one after a build need not be the form a client gets later.
            result[name].update(body_sizes(port, request))
    repeats = 1 if slowest > settings.slow_seconds else settings.repeats
    changes = []
    for _ in range(repeats):
        upload_ms = change()
        changes.append({"upload": upload_ms, "page": timed_first(port, page), "legacy": timed_first(port, legacy)})
    for name in ("page", "legacy"):
        firsts = [one[name] for one in changes]
        result[name].update(cold_ms=firsts, cold_median=statistics.median(firsts))
    result["upload_ms"] = [one["upload"] for one in changes]
    log(
        f"    page warm {result['page']['warm_p50']:.1f} ms, after a change {result['page']['cold_median']:.1f} ms; "
        f"legacy warm {result['legacy']['warm_p50']:.1f} ms, after a change {result['legacy']['cold_median']:.1f} ms"
    )
    return result


def body_sizes(port: int, request: Request) -> dict[str, int | None]:
    """The plain body's size and the gzip body's (None when the server did not compress)."""
    headers = {name: value for name, value in request.headers.items() if name != "Accept-Encoding"}
    plain = expect(port, Request(request.path, headers, request.method, request.body, request.status), timeout=900)
    zipped = expect(port, Request(request.path, {**headers, **GZIP}, request.method, request.body), timeout=900)
    gzipped = zipped.headers.get("content-encoding") == "gzip"
    return {"bytes_plain": len(plain.body), "bytes_gzip": len(zipped.body) if gzipped else None}


def page_request(path: str) -> Request:
    return Request(path, {**HTML, **GZIP})


def legacy_request(path: str, accept_json: bool = False) -> Request:
    return Request(path, {"Accept": "application/json", **GZIP} if accept_json else dict(GZIP))
