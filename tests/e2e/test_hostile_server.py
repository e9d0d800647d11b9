"""The nastiest uploads, sent byte by byte to a real gunicorn: bodies cut short,
Content-Lengths that lie, a zip bomb, NULs and bytes that are not UTF-8.

Each is answered with a 4xx that says why; afterwards the workers answer a
sound upload and the simple page as usual, were never restarted, logged no
error, and nothing of the hostile uploads was stored.
"""

from __future__ import annotations

import json
import re
import socket
import urllib.parse
from dataclasses import dataclass

import pytest

from harness.dists import build_wheel
from harness.upload_form import Form, Upload, form_for, twine_form
from tests.e2e.helpers import IndexServer, started_index_server
from tests.hostile import catalogue, payloads

PASSWORD = "hostile battery staple"
MAKE_USER = f"from django.contrib.auth.models import User\nUser.objects.create_user('ops', password={PASSWORD!r})"
STORED = (
    "from packages_app.models import File\nfrom packages_app.storage import stored_paths\n"
    "import json\nprint(json.dumps([sorted(File.objects.values_list('filename', flat=True)), sorted(stored_paths())]))"
)


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    body: bytes


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with started_index_server(tmp_path_factory.mktemp("hostile-server")) as server:
        server.shell(MAKE_USER)
        token = re.search(r"pyidx_\S+", server.manage("create_token", "ops")).group(0)
        server.token = token
        yield server


def send_raw(server: IndexServer, upload: Upload, *, send: int | None = None, close_after_sending: bool = False):
    """POST /legacy/ over a plain socket: ``send`` bytes of the body at most, then optionally half-close."""
    address = urllib.parse.urlsplit(server.url)
    assert address.hostname == "127.0.0.1"  # these tests never reach outside the machine
    length = upload.content_length if upload.content_length is not None else str(len(upload.body))
    head = (
        "POST /legacy/ HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\n"
        f"Authorization: Bearer {server.token}\r\n"
        f"Content-Type: {upload.content_type}\r\n"
        f"Content-Length: {length}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    body = upload.body if send is None else upload.body[:send]
    with socket.create_connection((address.hostname, address.port), timeout=60) as connection:
        connection.sendall(head + body)
        if close_after_sending:
            connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    status_line, _, rest = raw.partition(b"\r\n")
    _version, status, reason = status_line.decode("latin-1").split(" ", 2)
    return Answer(int(status), reason, rest.partition(b"\r\n\r\n")[2])


def sound_upload(tmp_path) -> Upload:
    wheel = build_wheel(tmp_path, "healthy", "1.0")
    return Upload.of(form_for(wheel, "healthy", "1.0"))


def _form() -> Form:
    return catalogue.sound_form()


HOSTILE = {
    # The client stops sending half-way and closes its side: the body ends early.
    "body-cut-in-half": (lambda: Upload.of(_form()), {"send": len(_form().body()) // 2, "close_after_sending": True}),
    # Content-Length promises more than ever comes.
    "content-length-too-long": (
        lambda: Upload.of(_form(), content_length=str(len(_form().body()) + 4096)),
        {"close_after_sending": True},
    ),
    # Content-Length says less than is sent: the rest is never read as this request.
    "content-length-too-short": (lambda: Upload.of(_form(), content_length=str(len(_form().body()) // 3)), {}),
    "zip-bomb": (lambda: Upload.of(twine_form(payloads.wheel_bomb(), payloads.WHEEL, "demo", "1.0")), {}),
    "nul-fields": (lambda: Upload.of(_form().with_value("summary", "a\x00b").with_value("author", "\x00")), {}),
    "not-utf8": (lambda: Upload.of(_form().with_value("description", b"\xff\xfe\x00d\x00")), {}),
    "path-in-filename": (lambda: Upload.of(_form().with_content(filename="../../demo-1.0-py3-none-any.whl")), {}),
}


def test_hostile_uploads_leave_the_workers_healthy_and_nothing_stored(server, tmp_path):
    answers = {}
    for label, (make, options) in HOSTILE.items():
        answers[label] = send_raw(server, make(), **options)
    for label, answer in answers.items():
        assert 400 <= answer.status < 500, (label, answer)
        message = answer.body.decode("utf-8", "replace").strip()
        assert message, label
        assert answer.reason.strip(), (label, answer)
        assert answer.reason.strip() in message.replace("\n", " "), (label, answer)
    assert "compression ratio" in answers["zip-bomb"].reason
    assert "Null bytes are not allowed" in answers["nul-fields"].reason

    healthy = send_raw(server, sound_upload(tmp_path))
    assert healthy.status == 200, healthy
    page = server.get("/simple/healthy/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    assert page.status == 200
    assert [entry["filename"] for entry in json.loads(page.body)["files"]] == ["healthy-1.0-py3-none-any.whl"]

    files, stored = json.loads(server.shell(STORED))
    assert files == ["healthy-1.0-py3-none-any.whl"]
    assert len(stored) == 2  # the wheel and its .metadata
    assert all("healthy-1.0-py3-none-any.whl" in path for path in stored)

    log = server.log_path.read_text(errors="replace")
    assert log.count("Booting worker") == 2, server.log_tail()  # no worker died and was replaced
    assert "Traceback" not in log, server.log_tail()
    assert "WORKER TIMEOUT" not in log, server.log_tail()
    assert not re.search(r'" 5\d\d ', log), server.log_tail()
