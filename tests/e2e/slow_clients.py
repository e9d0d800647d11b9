"""The index's gunicorn worker with short time limits, for ``tests/e2e/test_slow_clients.py``
(gunicorn loads it by name: ``--worker-class tests.e2e.slow_clients.QuickLimitsWorker``).

The slow clients themselves are in ``harness/slow_clients.py``, shared with the benchmark.
"""

from __future__ import annotations

from indexsite.gunicorn_worker import BoundedThreadWorker


class QuickLimitsWorker(BoundedThreadWorker):
    """The index's worker with its time limits cut to seconds, so a test can watch them act."""

    head_timeout = 2.0
    body_timeout = 3.0
    upload_timeout = 8.0
    io_timeout = 3.0
