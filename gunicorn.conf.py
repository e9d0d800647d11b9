"""gunicorn settings for the index (command-line flags override these)."""

import multiprocessing

# Two workers per core keeps both cores busy while one worker waits on I/O.
workers = multiprocessing.cpu_count() * 2
threads = 1
# Uploads of large files stream for a while; do not kill a worker mid-upload.
timeout = 600
graceful_timeout = 30
keepalive = 5
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
# gunicorn 27's control socket is one path per user, shared by every gunicorn
# on the machine; the index does not use it.
control_socket_disable = True
