"""gunicorn settings for the index (command-line flags override these)."""

import gc
import multiprocessing
import os

# Two workers per core keeps both cores busy while one worker waits on I/O.
workers = multiprocessing.cpu_count() * 2
threads = 1
# Uploads of large files stream for a while; do not kill a worker mid-upload.
timeout = 600
graceful_timeout = 30
keepalive = 5
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
# TLS straight from gunicorn when no proxy terminates it (mirrors such as bandersnatch
# insist on https): paths to a PEM certificate (chain) and its key.
certfile = os.environ.get("TLS_CERT_FILE") or None
keyfile = os.environ.get("TLS_KEY_FILE") or None
# gunicorn 27's control socket is one path per user, shared by every gunicorn
# on the machine; the index does not use it.
control_socket_disable = True


def post_worker_init(worker):
    # Move everything loaded at start-up (Django, the app) out of the collector's
    # view: building a big page makes many objects, and full collections over the
    # whole heap added ~45 ms to one build in three.
    gc.freeze()
