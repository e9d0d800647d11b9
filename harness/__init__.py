"""What the tests and the benchmarks both need: distributions to upload and the form twine sends them in.

dists.py builds small, valid, reproducible wheels and sdists; upload_form.py writes
twine's multipart upload form (and lets hostile tests break it byte by byte).
Nothing here imports Django or the index's own code.
"""
