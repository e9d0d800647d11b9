"""glibc's allocator tuned for a long-lived gunicorn worker (issue #25, steady memory).

Building a big project's pages (ccxt: 4,632 releases) allocates and frees hundreds of MiB
of C memory in a few threads. With glibc's defaults that memory stays in the worker after
the build: each of the worker's threads may get an arena of its own (up to eight per core),
and the threshold above which a block is mapped on its own (and unmapped when freed) climbs
with every large block freed, up to 32 MiB, so later large blocks come from heaps that are
never given back. A worker's RSS then grew with every change to a big project. Two
``mallopt`` calls, made in each worker before it starts its threads (gunicorn's
``post_fork``), fix both:

- ``M_ARENA_MAX = 2``: at most two arenas per process. The GIL lets one thread run Python
  at a time, so more arenas buy little but hold more freed memory.
- ``M_MMAP_THRESHOLD = 256 KiB``, fixed (setting it stops the climbing): a block that large
  gets its own mapping and goes back to the kernel when freed. Python's own small-object
  allocator is unaffected (its arenas are mapped directly).

What the build freed below that threshold (a list's array, a long string) stays in the
heaps, in holes among blocks still used; ``trim_after`` gives those pages back
(``malloc_trim(0)``) after a request that built a big page, from gunicorn's ``post_request``,
once the answer is sent. It runs the cyclic garbage collector first: a build leaves a few
objects in reference cycles that hold its big structures (building the root list of 10,001
projects: ~20 MiB that stayed until a full collection, which after ``gc.freeze`` seldom
comes); collecting them took ~1 ms.

Measured in ``benchmarks/page_memory.py`` (docs/benchmarks.md, "Memory after changes").
Anywhere but glibc (musl, macOS) ``tune`` does nothing, and it never stops a worker from
starting: an allocator that cannot be tuned is only a bigger one. ``MALLOC_TUNING=false``
turns it off; so does choosing the allocator's settings oneself with glibc's own
``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_`` or ``GLIBC_TUNABLES=glibc.malloc...``
(ours would override them).
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
from collections.abc import Mapping

logger = logging.getLogger(__name__)

# mallopt parameters, from glibc's <malloc.h>.
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

MMAP_THRESHOLD = 256 * 1024
ARENA_MAX = 2

# A request that built this much of pages is followed by a collection and malloc_trim: 0.06-5 ms
# (median 0.24) for the trim after a ccxt build, measured on a loaded machine, against the
# build's tens of ms. Low enough that the HTML root list of 10,001 projects (0.6 MB) counts.
TRIM_AFTER = 256 * 1024

# The C library once ``tune`` has tuned it; what ``trim_after`` calls.
_tuned: ctypes.CDLL | None = None

# Environment variables through which an operator tunes glibc's allocator directly.
OPERATOR_CHOICES = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_")
FALSE = frozenset({"false", "no", "off", "0"})


def glibc() -> ctypes.CDLL | None:
    """The C library of this process if it is glibc, else None."""
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):  # no confstr (Windows), or a name it does not know (musl, macOS)
        return None
    if not version or not version.startswith("glibc"):
        return None
    try:
        # The process's own symbols, glibc's among them.
        return ctypes.CDLL(None)
    except OSError:
        return None


def tune(environ: Mapping[str, str] = os.environ) -> bool:
    """Set ``M_ARENA_MAX`` and ``M_MMAP_THRESHOLD`` on glibc; whether both took effect.

    Call it in a new worker before it starts threads: arenas already made stay. Never raises.
    """
    if environ.get("MALLOC_TUNING", "").strip().lower() in FALSE:
        return False
    if any(environ.get(name) for name in OPERATOR_CHOICES) or "glibc.malloc." in environ.get("GLIBC_TUNABLES", ""):
        logger.info("glibc's allocator is configured in the environment; leaving it as it is")
        return False
    try:
        libc = glibc()
        if libc is None:
            return False
        mallopt = libc.mallopt
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
        libc.malloc_trim.restype = ctypes.c_int
        mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        mallopt.restype = ctypes.c_int
        # mallopt answers 1 on success, 0 on a value it refuses.
        done = mallopt(M_ARENA_MAX, ARENA_MAX) == 1
        done = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and done
    except Exception:  # a worker must start whatever the C library says
        logger.warning("could not tune glibc's allocator", exc_info=True)
        return False
    if not done:
        logger.warning("glibc's allocator refused M_ARENA_MAX=%d or M_MMAP_THRESHOLD=%d", ARENA_MAX, MMAP_THRESHOLD)
        return False
    global _tuned
    _tuned = libc
    return True


def trim_after(built_bytes: int) -> bool:
    """After a request that built ``built_bytes`` of pages: if that is ``TRIM_AFTER`` or more, and
    ``tune`` tuned this process, collect the build's cyclic garbage and give the free memory
    inside glibc's heaps back to the kernel (``malloc_trim(0)``). Whether it trimmed; never raises.
    """
    libc = _tuned
    if libc is None or built_bytes < TRIM_AFTER:
        return False
    try:
        gc.collect()  # what the build left in reference cycles, freed before the trim
        libc.malloc_trim(0)
    except Exception:
        logger.warning("malloc_trim failed", exc_info=True)
        return False
    return True
