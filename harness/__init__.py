"""What the tests and the benchmarks both need, so that neither imports the other.

dists.py builds small, valid, reproducible wheels and sdists; upload_form.py writes
twine's multipart upload form (and lets hostile tests break it byte by byte);
servers.py runs the index under gunicorn (its environment, manage.py, start and stop),
loopback.py talks HTTP to it on 127.0.0.1, databases.py and s3.py give it a throw-away
database and bucket; slow_clients.py holds connections open the slow way; load_storm.py
is the storm benchmark's engine (its small run is a test); markdown.py rewrites a doc's sections.
Nothing here imports Django or the index's own code.
"""
