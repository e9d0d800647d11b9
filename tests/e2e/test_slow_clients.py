"""Slow clients against the real server as ./scripts/serve runs it (issue 16, item 5).

Clients that send a head a line a second, a body a byte a second, or never read a
download must not stop the index: /simple/ keeps answering at once while eight of them
hold on. An upload without valid credentials is refused before its body is read, and each
kind of slow client is cut off when its time is up (checked with the limits cut to seconds).
"""

from __future__ import annotations

import re
import socket
import time
import urllib.parse
from pathlib import Path

import pytest

from harness.slow_clients import (
    UPLOAD_FORM,
    SlowClient,
    Trickle,
    big_wheel,
    eight_slow_clients,
    never_reads,
    probe,
    slow_body,
    slow_head,
    upload,
)
from tests.e2e.helpers import Clients, IndexServer, started_index_server

PASSWORD = "slow clients battery staple"
MAKE_USER = f"from django.contrib.auth.models import User\nUser.objects.create_user('ops', password={PASSWORD!r})"
# Room for the 40 MiB download the never-reading clients ask for; on S3 the index sends the
# bytes itself (stream), since a redirect to the store would leave it nothing to be held up by.
BIG_FILES = {"MAX_FILE_SIZE": str(64 * 1024**2), "S3_DOWNLOADS": "stream"}
SETTLE = 2.0  # seconds for the slow clients to take their threads before the index is asked
PROMPT = 1.0


@pytest.fixture(scope="module")
def big_download(tmp_path_factory) -> Path:
    """A wheel of about 40 MiB: more than a client's and the server's socket buffers hold."""
    return big_wheel(tmp_path_factory.mktemp("big-wheel"), "big-download")


def with_user_token_and_big_file(server: IndexServer, wheel: Path) -> IndexServer:
    server.shell(MAKE_USER)
    server.token = re.search(r"pyidx_\S+", server.manage("create_token", "ops")).group(0)
    server.download = upload(server.url, server.token, wheel, "big-download")
    server.download_size = wheel.stat().st_size
    return server


@pytest.fixture(scope="module")
def served_as_shipped(tmp_path_factory, big_download):
    """gunicorn.conf.py as shipped: its worker class, its worker count for this machine, its threads."""
    base = tmp_path_factory.mktemp("slow-clients-server")
    with started_index_server(base, workers=None, extra_env=BIG_FILES) as server:
        yield with_user_token_and_big_file(server, big_download)


@pytest.fixture(scope="module")
def quick_limits(tmp_path_factory, big_download):
    """The same, with the worker's time limits cut to seconds (tests.e2e.slow_clients.QuickLimitsWorker)."""
    base = tmp_path_factory.mktemp("quick-limits-server")
    with started_index_server(
        base, extra_env=BIG_FILES, extra_args=("--worker-class", "tests.e2e.slow_clients.QuickLimitsWorker")
    ) as server:
        yield with_user_token_and_big_file(server, big_download)


def still_connected(client: SlowClient) -> bool:
    return not client.read_available()


def test_simple_answers_at_once_while_eight_slow_clients_hold_on(served_as_shipped):
    server = served_as_shipped
    clients = eight_slow_clients(server.url, server.token, server.download)
    with Trickle(clients, limit=60).running():
        time.sleep(SETTLE)
        answers = [probe(server.url, wait=10) for _ in range(5)]
        # Measured while they held on: every one that may take its time still does.
        holding = [client.label for client in clients if client.drip is not None and still_connected(client)]
    assert [answer.status for answer in answers] == [200] * 5, answers
    assert max(answer.seconds for answer in answers) < PROMPT, answers
    assert holding == ["slow head", "slow head", "upload body, valid token", "XML-RPC body"]
    refused = [client for client in clients if client.label == "upload body, no credentials"]
    assert [client.status for client in refused] == [401, 401]
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, server.log_tail()
    assert "WORKER TIMEOUT" not in log, server.log_tail()


def head_only(url: str, headers: dict[str, str], *, length: int) -> tuple[bytes, float]:
    """POST /legacy/ sending only the head; what the server answers (and when it closes), 10 s at most."""
    address = urllib.parse.urlsplit(url)
    assert address.hostname == "127.0.0.1"
    lines = ["POST /legacy/ HTTP/1.1", f"Host: {address.netloc}", f"Content-Type: {UPLOAD_FORM}"]
    lines += [f"Content-Length: {length}", *(f"{name}: {value}" for name, value in headers.items())]
    received = bytearray()
    started = time.monotonic()
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pass  # no end: the assertions below say what was missing
    return bytes(received), time.monotonic() - started


@pytest.mark.parametrize(
    ("label", "headers"),
    [("no credentials", {}), ("a wrong token", {"Authorization": "Bearer pyidx_0000_wrong"})],
)
def test_an_upload_without_valid_credentials_is_refused_before_its_body(served_as_shipped, label, headers):
    answer, seconds = head_only(served_as_shipped.url, headers, length=40 * 1024**2)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401 "), (label, answer[:300])
    assert b"\r\nConnection: close\r\n" in head, head
    assert b"\r\nWWW-Authenticate: Basic " in head, head
    assert b"authentication" in body.lower() or b"token" in body.lower(), body
    # Answered and closed without waiting for a byte of the 40 MiB.
    assert seconds < 5, seconds


def test_twine_still_shows_the_refusal_of_a_big_upload_with_a_wrong_password(served_as_shipped, big_download, tmp_path):
    """The server answers before the body and closes; twine, still sending, must show the 401."""
    clients = Clients(tmp_path / "clients", served_as_shipped.url)
    result = clients.twine("upload", big_download, username="ops", password="wrong")
    output = re.sub(r"\s+", " ", result.stdout + result.stderr)
    assert result.returncode != 0
    assert "401" in output, output
    assert "Invalid or non-existent authentication information" in output, output


def test_each_slow_client_is_cut_off_when_its_time_is_up(quick_limits):
    """Head 2 s, body 3 s, upload body 8 s, a stalled write 3 s (QuickLimitsWorker); the
    watchdog looks once a second, so each may come up to a second and a half late."""
    server = quick_limits
    url = server.url
    head = slow_head(url)
    body = slow_body(url, "/RPC2", content_type="text/xml", length=4096, label="XML-RPC body")
    authorized = {"Authorization": f"Bearer {server.token}"}
    upload_body = slow_body(
        url, "/legacy/", content_type=UPLOAD_FORM, length=1024**2, headers=authorized, label="upload body"
    )
    download = never_reads(url, server.download)
    watched = [head, body, upload_body]
    started = time.monotonic()
    upload_open_after_5s = None
    with Trickle([*watched, download], limit=30).running():
        while any(client.closed_at is None for client in watched) and time.monotonic() - started < 20:
            for client in watched:
                client.read_available()
            if upload_open_after_5s is None and time.monotonic() - started > 5:
                upload_open_after_5s = upload_body.closed_at is None
            time.sleep(0.1)
        # The download stalled at once and its thread gave up: what was sent arrives, then the end.
        download.sock.settimeout(10)
        while chunk := download.sock.recv(1024**2):
            download.received += chunk

    closed_after = {client.label: (client.closed_at or float("inf")) - started for client in watched}
    assert 1.5 < closed_after["slow head"] < 2 + 1.5, closed_after
    assert 2.5 < closed_after["XML-RPC body"] < 3 + 1.5, closed_after
    assert upload_open_after_5s, closed_after  # an upload has longer than any other body
    assert 7.5 < closed_after["upload body"] < 8 + 1.5, closed_after
    assert 0 < len(download.received) < server.download_size
    log = server.log_path.read_text(errors="replace")
    assert "its request head took too long" in log, server.log_tail()
    assert "its request body took too long" in log, server.log_tail()
    assert "its upload body took too long" in log, server.log_tail()
    assert "it read nothing of the answer for 3.0s" in log, server.log_tail()
    assert "Traceback" not in log, server.log_tail()
    assert log.count("Booting worker") == 2, server.log_tail()  # nothing was killed and restarted
    assert probe(url, wait=5).status == 200  # every thread is free again
