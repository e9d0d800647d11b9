"""Clients that take their time, over raw sockets to 127.0.0.1 (the slow-client attacks of issue 16).

- :func:`slow_head` sends a request head one header line a second and never ends it;
- :func:`slow_body` sends a whole head, then the body one byte a second;
- :func:`never_reads` asks for a download and reads nothing of it.

A :class:`Trickle` feeds every slow client once a second, for a bounded time.
:func:`eight_slow_clients` is the mix ``tests/e2e/test_slow_clients.py`` and
``benchmarks/slow_clients.py`` hold against the server.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import select
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.dists import build_wheel
from harness.upload_form import form_for

CONNECT_TIMEOUT = 5
BIG_WHEEL_MIB = 40
UPLOAD_FORM = "multipart/form-data; boundary=slow-client-boundary"
# A small receive buffer makes a client that does not read block the server's writes early.
NEVER_READS_BUFFER = 4096


def _address(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    if parts.hostname != "127.0.0.1":
        raise ValueError(f"slow clients only talk to the local server, not {url}")
    return parts.hostname, parts.port or 80


def _netloc(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc


@dataclass
class SlowClient:
    """One connection and what it sends at every tick of the trickle (``None``: nothing)."""

    label: str
    sock: socket.socket
    drip: Callable[[int], bytes] | None
    # When the server was seen to close the connection (send failed or end-of-file read).
    closed_at: float | None = None
    received: bytearray = field(default_factory=bytearray)

    def tick(self, n: int) -> None:
        if self.drip is None or self.closed_at is not None:
            return
        try:
            self.sock.sendall(self.drip(n))
        except OSError:
            self.closed_at = time.monotonic()

    def read_available(self) -> bool:
        """Take what the server sent so far without waiting; True once it has closed its side."""
        while self.closed_at is None:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if not readable:
                return False
            try:
                chunk = self.sock.recv(65536)
            except OSError:  # reset
                chunk = b""
            if not chunk:
                self.closed_at = time.monotonic()
                break
            self.received += chunk
        return True

    @property
    def status(self) -> int | None:
        """The status of the answer received so far, if one came."""
        line = bytes(self.received).partition(b"\r\n")[0].split()
        return int(line[1]) if len(line) >= 2 and line[1].isdigit() else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _connect(url: str, *, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(CONNECT_TIMEOUT)
    sock.connect(_address(url))
    return sock


def slow_head(url: str, path: str = "/simple/") -> SlowClient:
    sock = _connect(url)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {_netloc(url)}\r\n".encode())
    return SlowClient("slow head", sock, lambda n: f"X-Slow-{n}: {n}\r\n".encode())


def slow_body(
    url: str, path: str, *, content_type: str, length: int, headers: Mapping[str, str] | None = None, label: str
) -> SlowClient:
    """A POST whose head is whole and whose body of ``length`` bytes comes a byte a tick."""
    sock = _connect(url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {_netloc(url)}", f"Content-Type: {content_type}"]
    lines += [f"Content-Length: {length}", *(f"{name}: {value}" for name, value in (headers or {}).items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return SlowClient(label, sock, lambda n: b"-")


def never_reads(url: str, path: str) -> SlowClient:
    sock = _connect(url, receive_buffer=NEVER_READS_BUFFER)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {_netloc(url)}\r\n\r\n".encode())
    return SlowClient("never reads a download", sock, None)


class Trickle:
    """Feeds slow clients once a second in a thread, for ``limit`` seconds at most."""

    def __init__(self, clients: list[SlowClient], *, limit: float = 120, interval: float = 1.0) -> None:
        self.clients = clients
        self.limit = limit
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trickle", daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.limit
        n = 0
        while not self._stop.wait(self.interval) and time.monotonic() < deadline:
            n += 1
            for client in self.clients:
                client.tick(n)

    @contextlib.contextmanager
    def running(self) -> Iterator[Trickle]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(self.interval * 2 + 5)
            for client in self.clients:
                client.close()


@dataclass(frozen=True)
class Probe:
    seconds: float
    status: int | None  # None: no whole answer within the wait


def probe(url: str, path: str = "/simple/", *, wait: float) -> Probe:
    """GET ``path`` on a connection of its own; how long until the whole answer (``Connection: close``)."""
    started = time.monotonic()
    deadline = started + wait
    received = bytearray()
    try:
        with socket.create_connection(_address(url), timeout=wait) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {_netloc(url)}\r\nConnection: close\r\n\r\n".encode())
            while (remaining := deadline - time.monotonic()) > 0:
                sock.settimeout(remaining)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
            else:
                return Probe(wait, None)
    except (TimeoutError, OSError):
        return Probe(min(time.monotonic() - started, wait), None)
    line = bytes(received).partition(b"\r\n")[0].split()
    status = int(line[1]) if len(line) >= 2 and line[1].isdigit() else None
    return Probe(time.monotonic() - started, status)


def eight_slow_clients(url: str, token: str, download: str) -> list[SlowClient]:
    """Two slow heads, two slow upload bodies without credentials and one with a valid
    token, a slow XML-RPC body, and two clients that never read the download at ``download``."""
    upload_length = 10 * 1024**2
    return [
        slow_head(url),
        slow_head(url),
        slow_body(url, "/legacy/", content_type=UPLOAD_FORM, length=upload_length, label="upload body, no credentials"),
        slow_body(url, "/legacy/", content_type=UPLOAD_FORM, length=upload_length, label="upload body, no credentials"),
        slow_body(
            url,
            "/legacy/",
            content_type=UPLOAD_FORM,
            length=upload_length,
            headers={"Authorization": f"Bearer {token}"},
            label="upload body, valid token",
        ),
        slow_body(url, "/RPC2", content_type="text/xml", length=4096, label="XML-RPC body"),
        never_reads(url, download),
        never_reads(url, download),
    ]


def big_wheel(directory: Path, name: str, mib: int = BIG_WHEEL_MIB) -> Path:
    # Random bytes written as hex compress to about half: the wheel comes out near ``mib`` MiB.
    blob = os.urandom(mib * 1024**2).hex()
    return build_wheel(directory, name, "1.0", module_body=f"BLOB = {blob!r}\n")


def upload(url: str, token: str, path: Path, name: str) -> str:
    """POST ``path`` as twine does; return the URL path of the stored file."""
    _address(url)
    form = form_for(path, name, "1.0")
    connection = http.client.HTTPConnection(_netloc(url), timeout=300)
    try:
        connection.request(
            "POST",
            "/legacy/",
            body=form.body(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": form.content_type},
        )
        answer = connection.getresponse()
        text = answer.read().decode(errors="replace")
        if answer.status != 200:
            raise RuntimeError(f"the upload of {path.name} was refused: {answer.status} {text}")
        connection.request("GET", f"/simple/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        page = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    return urllib.parse.urlsplit(page["files"][0]["url"]).path
