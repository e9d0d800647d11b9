"""The webhook worker: sends journal events to webhooks until stopped (docs/webhooks.md)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from packages_app.webhooks import delivery


class Command(BaseCommand):
    help = (
        "Send the journal's events to the webhooks, each hook's in serial order, until stopped (SIGTERM or "
        "SIGINT stop it once the event being sent is answered). With --once, send what is due now and exit. "
        "Safe to restart at any moment: an event is sent again unless its receiver answered 2xx."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Send what is due now, then exit.")
        parser.add_argument(
            "--interval", type=float, default=2.0, help="Seconds to wait when nothing is due (default 2)."
        )

    def handle(self, *args, once: bool = False, interval: float = 2.0, **options):
        verbosity = options.get("verbosity", 1)
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
        total = 0
        while not stop.is_set():
            if not connection.in_atomic_block:  # (a test's transaction; never the worker's own)
                close_old_connections()  # a long-running worker must not keep a connection the database dropped
            sent = delivery.deliver_due(stop=stop)
            total += sent
            if sent and verbosity > 1:
                self.stdout.write(f"Delivered {sent} event(s).")
            if once and not sent:
                break
            if not sent:
                stop.wait(interval)
        if verbosity > 0:
            self.stdout.write(f"Delivered {total} webhook event(s).")
