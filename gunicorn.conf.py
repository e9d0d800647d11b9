"""gunicorn settings for the index (command-line flags override these).

Environment: ``WEB_CONCURRENCY`` (worker processes, default two per core),
``GUNICORN_THREADS`` (threads per worker, default 16), ``BIND`` (default
127.0.0.1:8000), ``LOG_FORMAT`` (``json`` for one JSON object per access-log
line), ``TLS_CERT_FILE``/``TLS_KEY_FILE`` (serve https directly).
"""

import gc
import multiprocessing
import os
import shutil
import tempfile

bind = [os.environ.get("BIND", "127.0.0.1:8000")]
# Two workers per core keeps both cores busy while one worker waits on I/O. One per core
# halves the memory (each worker holds its own copy of the application, ~50-80 MiB) but
# served the big pages up to a quarter fewer requests per second under load on 2 cores
# (benchmarks/worker_count.py, docs/benchmarks.md "Lean workers"): set WEB_CONCURRENCY to
# the core count, and GUNICORN_THREADS=32 to keep as many connections, when memory is short.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2)
# Threads, each with a time limit on its client (indexsite/gunicorn_worker.py): a sync
# worker reads and writes for one client at a time with no limit but `timeout`, so a few
# clients sending a byte a second, or not reading a download, stopped the whole index.
# Threads wait on the network, the database and the store; each keeps its own database
# connection (CONN_MAX_AGE), so workers x threads must fit the database's connections.
worker_class = "indexsite.gunicorn_worker.BoundedThreadWorker"
threads = int(os.environ.get("GUNICORN_THREADS") or 16)
# For threaded workers this is the worker process's heartbeat (its main loop beats every
# second whatever its threads do), not a limit on a request: that is the worker's own.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Request size: gunicorn bounds the request line and headers; bodies are bounded by the
# index itself: an upload whose Content-Length exceeds MAX_FILE_SIZE plus 80 MiB (the
# form's other fields and slack) is refused before a byte of it is read, and the file
# part is cut off at MAX_FILE_SIZE while it streams; other bodies by Django's
# DATA_UPLOAD_MAX_MEMORY_SIZE. A proxy in front must allow MAX_FILE_SIZE plus 80 MiB.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Behind a proxy, the index itself reads X-Forwarded-Proto (BEHIND_TLS_PROXY) and the client
# address in X-Forwarded-For (TRUSTED_PROXY_COUNT); gunicorn rewrites neither for it.

accesslog = "-"
if os.environ.get("LOG_FORMAT", "plain").strip().lower() == "json":
    logger_class = "indexsite.gunicorn_logging.JsonAccessLogger"
else:
    # client, request line, status, bytes sent, milliseconds, user agent, request id
    access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s" %({x-request-id}i)s'

# TLS straight from gunicorn when no proxy terminates it (mirrors such as bandersnatch
# insist on https): paths to a PEM certificate (chain) and its key.
certfile = os.environ.get("TLS_CERT_FILE") or None
keyfile = os.environ.get("TLS_KEY_FILE") or None
# Prometheus metrics (METRICS_TOKEN, packages_app/metrics.py): each worker writes its counts to
# one folder and a scrape adds them up. Set before any worker imports prometheus_client; a
# folder of our own is emptied at start, since counts left by an earlier run would be added in.
_METRICS_DIR_OWNED = False
if os.environ.get("METRICS_TOKEN") and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="pyindex-metrics-")
    _METRICS_DIR_OWNED = True


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder and os.environ.get("METRICS_TOKEN"):
        for entry in os.scandir(folder):
            if entry.name.endswith(".db"):
                os.unlink(entry.path)


def on_exit(server):
    if _METRICS_DIR_OWNED:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# gunicorn 27's control socket is one path per user, shared by every gunicorn
# on the machine; the index does not use it.
control_socket_disable = True


def when_ready(server):
    # ./scripts/serve's closing summary (URL, admin, data, client lines), after gunicorn's own start lines.
    summary = os.environ.get("INDEX_START_SUMMARY")
    if summary:
        print(summary, flush=True)


def post_fork(server, worker):
    # Before the worker starts its threads (arenas are made per thread): keeps the memory
    # that building a big project's pages frees from staying in the worker
    # (indexsite/allocator.py; MALLOC_TUNING=false turns it off).
    from indexsite import allocator

    allocator.tune()


def post_request(worker, req, environ, resp):
    # After an answer that built a big page (sent by now): its build's freed memory back to
    # the kernel, in one malloc_trim (indexsite/allocator.py; nothing unless tuned).
    from indexsite import allocator
    from packages_app.pages import store

    allocator.trim_after(store.take_built_bytes())


def post_worker_init(worker):
    # Move everything loaded at start-up (Django, the app) out of the collector's
    # view: building a big page makes many objects, and full collections over the
    # whole heap added ~45 ms to one build in three.
    gc.freeze()
