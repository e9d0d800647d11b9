"""Every endpoint measured, and how one (server, request) is measured.

Each row of the table is one request as a client sends it (``Accept-Encoding: gzip`` as pip,
uv and requests do, unless the row says plain). The peers get the same row where they have
the endpoint, or their nearest equivalent (said in the row's note), or nothing.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from client import GZIP, JSON_V1, Latency, Request, expect, fetch, sequential
from load import Load, LoadTool
from processes import Server, log

HTML = {"Accept": "text/html"}


@dataclass
class Endpoint:
    key: str
    label: str
    ours: Request
    peers: dict[str, Request] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # peer -> what its request is, when not the same


@dataclass
class Context:
    """What the endpoint table needs to know about the seeded data."""

    big: str
    small: str
    version: str  # a release of the big project with a wheel
    wheel: str  # that wheel's filename
    wheel_path: str  # our URL path of it
    last_serial: int
    devpi_wheel_path: str = ""


def xmlrpc_body(method: str, *ints: int) -> bytes:
    params = "".join(f"<param><value><int>{value}</int></value></param>" for value in ints)
    return (
        f"<?xml version='1.0'?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
    ).encode()


def table(ctx: Context, pypiserver=None, devpi=None) -> list[Endpoint]:
    """The rows; a peer that is not given (or lacks an endpoint) gets no request in them."""
    big, small, version = ctx.big, ctx.small, ctx.version
    pyp, dev = pypiserver, devpi
    rows: list[Endpoint] = []

    def add(key, label, ours, pyp=None, dev=None, **notes):
        peers = {name: request for name, request in (("pypiserver", pyp), ("devpi", dev)) if request}
        rows.append(Endpoint(key, label, ours, peers, notes))

    html_gz, json_gz = {**HTML, **GZIP}, {"Accept": JSON_V1, **GZIP}
    add(
        "simple-big-html",
        f"simple page `{big}` HTML",
        Request(f"/simple/{big}/", html_gz),
        pyp and Request(pyp.simple(big), html_gz),
        dev and Request(dev.simple(big), html_gz),
    )
    add(
        "simple-big-json",
        f"simple page `{big}` JSON",
        Request(f"/simple/{big}/", json_gz),
        None,
        dev and Request(dev.simple(big), json_gz),
        pypiserver="HTML only",
    )
    add("simple-big-html-plain", f"simple page `{big}` HTML, no gzip", Request(f"/simple/{big}/", HTML))
    add("simple-big-json-plain", f"simple page `{big}` JSON, no gzip", Request(f"/simple/{big}/", {"Accept": JSON_V1}))
    add(
        "simple-small-html",
        "simple page, one-release project, HTML",
        Request(f"/simple/{small}/", html_gz),
        pyp and Request(pyp.simple(small), html_gz),
        dev and Request(dev.simple(small), html_gz),
    )
    add(
        "simple-small-json",
        "simple page, one-release project, JSON",
        Request(f"/simple/{small}/", json_gz),
        None,
        dev and Request(dev.simple(small), json_gz),
    )
    add(
        "root-html",
        "root list `/simple/` HTML",
        Request("/simple/", html_gz),
        pyp and Request(pyp.root_list, html_gz),
        dev and Request(dev.root_list, html_gz),
    )
    add(
        "root-json",
        "root list `/simple/` JSON",
        Request("/simple/", json_gz),
        None,
        dev and Request(dev.root_list, json_gz),
    )
    add(
        "metadata",
        "wheel `.metadata` (PEP 658)",
        Request(ctx.wheel_path + ".metadata", GZIP),
        None,
        dev and ctx.devpi_wheel_path and Request(ctx.devpi_wheel_path + ".metadata", GZIP),
        pypiserver="no PEP 658",
    )
    add(
        "download",
        "file download (wheel)",
        Request(ctx.wheel_path, GZIP),
        pyp and Request(pyp.download(ctx.wheel), GZIP),
        dev and ctx.devpi_wheel_path and Request(ctx.devpi_wheel_path, GZIP),
    )
    add(
        "legacy-json",
        f"legacy JSON `/pypi/{big}/json`",
        Request(f"/pypi/{big}/json", GZIP),
        pyp and Request(pyp.legacy_json(big), GZIP),
        dev and Request(dev.legacy_json(big), {"Accept": "application/json", **GZIP}),
        pypiserver="nearest: `/<project>/json` (latest version and file URLs only)",
        devpi="nearest: `/root/main/<project>` as JSON (every version's metadata)",
    )
    add(
        "legacy-json-version",
        f"legacy JSON `/pypi/{big}/<version>/json`",
        Request(f"/pypi/{big}/{version}/json", GZIP),
        None,
        dev and Request(dev.release_json(big, version), {"Accept": "application/json", **GZIP}),
        devpi="nearest: `/root/main/<project>/<version>` as JSON",
    )
    add(
        "xmlrpc-changelog",
        "XML-RPC `changelog_since_serial` (last 100)",
        Request(
            "/pypi",
            {"Content-Type": "text/xml", **GZIP},
            "POST",
            xmlrpc_body("changelog_since_serial", max(0, ctx.last_serial - 100)),
        ),
    )
    add("api-releases", f"API release page `{big}` (100)", Request(f"/api/v1/projects/{big}/releases/", GZIP))
    add("api-release", "API release resource", Request(f"/api/v1/projects/{big}/releases/{version}/", GZIP))
    add("api-events", "API events page (100)", Request(f"/api/v1/events/?since={ctx.last_serial // 2}", GZIP))
    return rows


# ---------------------------------------------------------------- measuring one


@dataclass
class Settings:
    requests: int  # sequential requests per measure
    duration: float  # seconds of load
    warm_seconds: float
    budget: float | None = None  # seconds for a sequential run of a slow server (None: no limit)
    max_load_seconds: float = 20.0


@dataclass
class Figures:
    status: int
    bytes_plain: int
    bytes_gzip: int | None  # None: the server sent no gzip when asked
    latency: Latency
    load: Load
    revalidation: Latency | None = None
    revalidation_note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _plain(request: Request) -> Request:
    headers = {name: value for name, value in request.headers.items() if name != "Accept-Encoding"}
    return Request(request.path, headers, request.method, request.body, request.status)


def _gzip(request: Request) -> Request:
    return Request(request.path, {**request.headers, **GZIP}, request.method, request.body, request.status)


def warm(port: int, request: Request, tool: LoadTool, seconds: float) -> float:
    """A request, then a burst so every worker process has built what it caches; returns the
    first request's seconds. A request that takes seconds is not repeated more than that."""
    first = expect(port, request, timeout=600).seconds
    if first < 1:
        expect(port, request, timeout=600)
    tool.run(port, request, min(max(seconds, 2 * first), 6))
    return first


def measure(server: Server, request: Request, tool: LoadTool, settings: Settings) -> Figures:
    port = server.port
    first = warm(port, request, tool, settings.warm_seconds)
    plain = expect(port, _plain(request), timeout=600)
    zipped = expect(port, _gzip(request), timeout=600)
    bytes_gzip = len(zipped.body) if zipped.headers.get("content-encoding") == "gzip" else None
    latency = sequential(port, request, settings.requests, budget=settings.budget)
    # A slow server gets a longer run, so that the rate counts more than a handful of answers.
    seconds = min(max(settings.duration, 4 * latency.p50 / 1000), settings.max_load_seconds)
    load = tool.run(port, request, seconds, server)
    figures = Figures(plain.status, len(plain.body), bytes_gzip, latency, load)
    # A validator from the same representation: ETags differ between the plain and gzip bodies.
    validator = _conditional(zipped if "Accept-Encoding" in request.headers else plain)
    if validator is None:
        figures.revalidation_note = "no ETag or Last-Modified"
    else:
        conditional = Request(request.path, {**request.headers, **validator}, request.method, request.body, 304)
        answer = fetch(port, conditional, timeout=600)
        if answer.status == 304:
            figures.revalidation = sequential(port, conditional, settings.requests // 2, budget=settings.budget)
        else:
            figures.revalidation_note = f"answers {answer.status} to {next(iter(validator))}"
    log(
        f"    p50 {latency.p50:.2f} ms ({latency.samples}), {load.rps:.1f} req/s, "
        f"{len(plain.body):,} B (first {first * 1000:.0f} ms)"
    )
    return figures


def _conditional(reply) -> dict[str, str] | None:
    if etag := reply.headers.get("etag"):
        return {"If-None-Match": etag}
    if modified := reply.headers.get("last-modified"):
        return {"If-Modified-Since": modified}
    return None


def timed_first(port: int, request: Request) -> float:
    """Milliseconds of one request (the first after a change)."""
    started = time.perf_counter()
    expect(port, request, timeout=600)
    return (time.perf_counter() - started) * 1000
