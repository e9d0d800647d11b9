"""A webhook receiver on 127.0.0.1 for the webhook tests: real HTTP, scripted answers.

Each POST is recorded (headers, body, what was answered). ``script`` holds the answers of
the next requests, one each: an HTTP status (``500``), ``"hang"`` (answer only after
``hang_seconds``, past the sender's timeout), or ``"redirect"`` (a 302 to another host);
once it is empty every request gets ``200``. ``delay`` slows every answer (a slow receiver,
for killing a sender mid-delivery). ``verified`` checks each recorded delivery's signature.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes
    answered: int | str

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self, *, hang_seconds: float = 3.0, delay: float = 0.0) -> None:
        self.script: list[int | str] = []
        self.deliveries: list[Delivery] = []
        self.hang_seconds = hang_seconds
        self.delay = delay
        self.started = 0  # requests begun, answered or not
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def delivered(self) -> list[Delivery]:
        """The deliveries answered (or being answered) 2xx, in the order they arrived."""
        with self._lock:
            return [d for d in self.deliveries if isinstance(d.answered, int) and 200 <= d.answered < 300]

    def _next_answer(self) -> int | str:
        with self._lock:
            return self.script.pop(0) if self.script else 200

    def _record(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries.append(delivery)

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.started += 1
                answer = receiver._next_answer()
                headers = {name.lower(): value for name, value in self.headers.items()}
                # Recorded before it is answered, so that a sender that has its answer finds it
                # recorded, and arrivals are recorded in the order they came.
                receiver._record(Delivery(headers, body, answer))
                if receiver.delay:
                    time.sleep(receiver.delay)
                if answer == "hang":
                    time.sleep(receiver.hang_seconds)
                    self._answer(200)
                elif answer == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://elsewhere.invalid/hook")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    assert isinstance(answer, int)
                    self._answer(answer)

            def _answer(self, status: int) -> None:
                text = b"ok" if status < 300 else b"receiver broke"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except OSError:
                    pass  # the sender gave up (timed out) or was killed

        return Handler
