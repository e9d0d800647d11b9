"""gunicorn's threaded worker with a time limit on every client (issue 16).

gunicorn 27's gthread worker waits for a new connection's first byte without holding a
thread, but then reads the request head and body, and writes the answer, in one of its
threads on a blocking socket with no time limit. A client that sends its head a line a
second, its body a byte a second, or stops reading a download keeps that thread for as long
as it likes; a few such clients per worker and the index stops answering. (gunicorn's
``timeout`` is the worker process's heartbeat on this worker, not a limit on a request.)

This worker adds, per connection:

- the request head must arrive whole within ``head_timeout`` seconds;
- a request body must arrive whole within ``body_timeout`` seconds, an upload's
  (``/legacy/``) within ``upload_timeout``: uploads are long, nothing else is. What the
  application does with the body afterwards has no limit here;
- after the head, a single read or write waits at most ``io_timeout`` seconds for the
  client: a download nobody reads, an upload that stops arriving;
- ``Connection: close`` from the application is honoured (gunicorn drops hop-by-hop
  headers from the answer): the upload endpoint refuses bad credentials before reading the
  body, and the body must then not be waited for;
- a connection that ends lingers (half-closed, taking what the client still sends for two
  seconds at most, as gunicorn does so that the client reads the answer rather than a
  reset) in its own thread; gunicorn lingers in the worker's main loop, which accepts the
  connections of every thread.

The first two are enforced from the main loop, which looks at the deadlines every second:
a connection past its deadline is shut down, and the thread serving it reads end-of-file
and finishes as it does for a client that went away. HTTP/1.1 only: gunicorn.conf.py
leaves gunicorn's HTTP/2 off, and an HTTP/2 connection would count as one long head.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from gunicorn.http.body import LengthReader
from gunicorn.http.wsgi import Response
from gunicorn.workers.gthread import ThreadWorker

UPLOAD_PATH = "/legacy/"
# gunicorn's own bounds for a lingering close (gunicorn.util.close_graceful).
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 1024
# The raw socket's shutdown: an SSL socket's own forgets its TLS state, under the thread
# still reading through it.
_shutdown = socket.socket.shutdown


class BoundedThreadWorker(ThreadWorker):
    head_timeout = 20.0
    body_timeout = 30.0
    upload_timeout = 600.0
    io_timeout = 60.0

    def init_process(self) -> None:
        # Each connection being served: (deadline, what is late, the body still to arrive).
        self._deadlines: dict[object, tuple[float, str, LengthReader | None]] = {}
        self._deadlines_lock = threading.Lock()
        super().init_process()  # runs the worker; returns only when it stops

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = _honouring_connection_close(self.wsgi)

    # ------------------------------------------------------------ worker threads

    def handle(self, conn):
        self._set_deadline(conn, self.head_timeout, "request head")
        try:
            keep = super().handle(conn)
        finally:
            self._clear_deadline(conn)
        if keep is False:  # neither kept alive nor handed back to wait for data
            _linger(conn.sock)
            conn.lingered = True
        return keep

    def handle_request(self, req, conn):
        reader = getattr(req.body, "reader", None)
        if isinstance(reader, LengthReader) and reader.length == 0:
            self._clear_deadline(conn)
        elif req.path == UPLOAD_PATH:
            self._set_deadline(conn, self.upload_timeout, "upload body", reader)
        else:
            self._set_deadline(conn, self.body_timeout, "request body", reader)
        conn.sock.settimeout(self.io_timeout)
        try:
            return super().handle_request(req, conn)
        except TimeoutError:
            # Raised here only by gunicorn writing the answer (the application sees a stalled
            # body as an unreadable one): the client stopped reading.
            self.log.info("Gave up on %s: it read nothing of the answer for %ss", _address(conn), self.io_timeout)
            with contextlib.suppress(OSError):  # nothing to linger for
                _shutdown(conn.sock, socket.SHUT_RDWR)
            return False

    # ------------------------------------------------------------ main loop

    def finish_request(self, conn, fs) -> None:
        if getattr(conn, "lingered", False):
            # What gunicorn does for a connection that ends, but without lingering again:
            # its thread did, and here it would hold up every other connection of the worker.
            self.nr_conns -= 1
            conn.close()
            return
        super().finish_request(conn, fs)

    def murder_pending(self) -> None:
        # The main loop calls this at least once a second, shutting down or not.
        super().murder_pending()
        self._enforce_deadlines()

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        with self._deadlines_lock:
            entries = list(self._deadlines.items())
        for conn, (deadline, what, body) in entries:
            if body is not None and body.length == 0:
                self._clear_deadline(conn)  # the body is in; the application takes its time
            elif now > deadline:
                self.log.info("Closed the connection from %s: its %s took too long", _address(conn), what)
                with contextlib.suppress(OSError):  # already closed by its thread
                    _shutdown(conn.sock, socket.SHUT_RDWR)

    # ------------------------------------------------------------ deadlines

    def _set_deadline(self, conn, seconds: float, what: str, body: LengthReader | None = None) -> None:
        with self._deadlines_lock:
            self._deadlines[conn] = (time.monotonic() + seconds, what, body)

    def _clear_deadline(self, conn) -> None:
        with self._deadlines_lock:
            self._deadlines.pop(conn, None)


def _address(conn) -> str:
    client = conn.client
    return f"{client[0]}:{client[1]}" if isinstance(client, tuple) and len(client) >= 2 else str(client)


def _linger(sock) -> None:
    """Half-close, and take what the client still sends (bounded), before the socket is closed.

    Closed with unread bytes, a socket answers the client with a reset, which may reach it
    before it has read the answer: a client still sending an upload that was refused at
    once would then see a broken connection rather than the refusal.
    """
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_SECONDS
        drained = 0
        while drained < LINGER_BYTES and (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            data = sock.recv(4096)
            if not data:
                break
            drained += len(data)


def _honouring_connection_close(application):
    def app(environ, start_response):
        def start(status, headers, exc_info=None):
            if any(name.lower() == "connection" and value.strip().lower() == "close" for name, value in headers):
                # gunicorn passes its Response's bound start_response.
                response = getattr(start_response, "__self__", None)
                if isinstance(response, Response):
                    response.force_close()
            return start_response(status, headers, exc_info)

        return application(environ, start)

    return app
