"""A small upstream index on 127.0.0.1 for the tests of the upstream proxy: real HTTP, no mocks.

It serves PEP 691 JSON (or PEP 503 HTML) project pages at ``/simple/<name>/`` with ETags
(answering ``If-None-Match`` with 304), files at ``/files/<filename>`` and their
``.metadata``, and records every request path, so a test can prove a name never reached
it. A project's ``mode`` makes it misbehave: ``slow`` (sleeps before answering),
``500``, ``malformed``, ``oversized``; ``tamper`` serves other bytes than the page lists.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class UpstreamFile:
    filename: str
    data: bytes
    metadata: bytes | None = None
    requires_python: str | None = None
    yanked: bool | str = False
    upload_time: str = "2024-01-02T03:04:05.123456Z"
    tamper: bool = False  # serve other bytes than listed
    drip_seconds: float = 0.0  # sleep between 100-byte pieces of the file

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class UpstreamProject:
    name: str
    files: list[UpstreamFile] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    status: dict | None = None
    mode: str = "ok"  # ok, slow, 500, malformed, oversized, html
    last_serial: int = 7


class UpstreamIndex:
    """Start with ``with UpstreamIndex() as index:``; ``index.url`` is the simple root."""

    def __init__(self, slow_seconds: float = 3.0, files_host: str = "") -> None:
        self.projects: dict[str, UpstreamProject] = {}
        self.requests: list[str] = []
        # (path, the Authorization header or None) of every request
        self.authorizations: list[tuple[str, str | None]] = []
        # Another name for this server (say "localhost") to link files under, as an index whose
        # files live on another host does: absolute file URLs.
        self.files_host = files_host
        self.slow_seconds = slow_seconds
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/simple/"

    def __enter__(self) -> UpstreamIndex:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, name: str, *wheels: Path, **options) -> UpstreamProject:
        files = []
        for path in wheels:
            metadata = _wheel_metadata(path)
            requires = [
                line.split(":", 1)[1].strip()
                for line in (metadata or b"").decode().splitlines()
                if line.startswith("Requires-Python:")
            ]
            files.append(UpstreamFile(path.name, path.read_bytes(), metadata, requires[0] if requires else None))
        versions = sorted({path.name.split("-")[1] for path in wheels})
        project = UpstreamProject(name, files, versions, **options)
        self.projects[name] = project
        return project

    def hits(self, fragment: str = "") -> list[str]:
        with self._lock:
            return [path for path in self.requests if fragment in path]

    def page(self, project: UpstreamProject) -> dict:
        return {
            "meta": {"api-version": "1.1", "_last-serial": project.last_serial},
            "name": project.name,
            "versions": project.versions,
            **({"project-status": project.status} if project.status else {}),
            "files": [
                {
                    "filename": file.filename,
                    "url": self._file_url(file.filename),
                    "hashes": {"sha256": file.sha256},
                    "requires-python": file.requires_python,
                    "yanked": file.yanked,
                    "size": len(file.data),
                    "upload-time": file.upload_time,
                    "core-metadata": {"sha256": hashlib.sha256(file.metadata).hexdigest()} if file.metadata else False,
                }
                for file in project.files
            ],
        }

    def _file_url(self, filename: str) -> str:
        if self.files_host:
            return f"http://{self.files_host}:{self._server.server_address[1]}/files/{filename}"
        return f"../../files/{filename}"

    def html_page(self, project: UpstreamProject) -> str:
        lines = []
        for file in project.files:
            extra = f' data-requires-python="{file.requires_python}"' if file.requires_python else ""
            if file.metadata:
                extra += f' data-core-metadata="sha256={hashlib.sha256(file.metadata).hexdigest()}"'
            lines.append(f'<a href="/files/{file.filename}#sha256={file.sha256}"{extra}>{file.filename}</a><br>')
        return "<!DOCTYPE html><html><body>" + "\n".join(lines) + "</body></html>"

    def _handler(self):
        index = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                with index._lock:
                    index.requests.append(self.path)
                    index.authorizations.append((self.path, self.headers.get("Authorization")))
                parts = self.path.strip("/").split("/")
                if len(parts) == 2 and parts[0] == "simple":
                    self._page(parts[1])
                elif len(parts) == 2 and parts[0] == "files":
                    self._file(parts[1])
                else:
                    self._send(404, b"not found", "text/plain")

            def _page(self, name: str) -> None:
                project = index.projects.get(name)
                if project is None:
                    self._send(404, b"not found", "text/plain")
                    return
                if project.mode == "slow":
                    time.sleep(index.slow_seconds)
                if project.mode == "500":
                    self._send(500, b"upstream is broken", "text/plain")
                    return
                if project.mode == "malformed":
                    self._send(200, b'{"files": [{"filename": 3', "application/vnd.pypi.simple.v1+json")
                    return
                if project.mode == "oversized":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
                    self.end_headers()  # no length: the reader must stop by itself
                    try:
                        self.wfile.write(b'{"files": [')
                        for _ in range(4096):
                            self.wfile.write(b" " * 1024)
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                if project.mode == "html":
                    body, content_type = index.html_page(project).encode(), "text/html"
                else:
                    body, content_type = json.dumps(index.page(project)).encode(), "application/vnd.pypi.simple.v1+json"
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self._send(200, body, content_type, {"ETag": etag})

            def _file(self, filename: str) -> None:
                wants_metadata = filename.endswith(".metadata")
                for project in index.projects.values():
                    for file in project.files:
                        if file.filename == filename.removesuffix(".metadata"):
                            if wants_metadata and file.metadata is not None:
                                self._send(200, file.metadata, "text/plain")
                                return
                            if not wants_metadata:
                                data = file.data[:-10] + b"X" * 10 if file.tamper else file.data
                                if file.drip_seconds:
                                    self._drip(data, file.drip_seconds)
                                else:
                                    self._send(200, data, "application/zip")
                                return
                self._send(404, b"not found", "text/plain")

            def _drip(self, data: bytes, pause: float) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    for start in range(0, len(data), 100):
                        self.wfile.write(data[start : start + 100])
                        self.wfile.flush()
                        time.sleep(pause)

            def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(body)

        return Handler


def _wheel_metadata(path: Path) -> bytes | None:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith(".dist-info/METADATA"):
                return archive.read(name)
    return None
