"""Verified credentials, kept in each worker for a short time.

Checking a token costs a query (and its ``last_used`` update), a password a deliberately
slow hash: too much for every simple page an installer fetches. So the viewer a
credential proved (``access.Viewer``: who, and which restricted projects it may read)
is kept in this process, keyed by a hash of the ``Authorization`` header, for
``CREDENTIALS_CACHE_SECONDS`` (30 by default, at most 60).

A change that takes a read away (a token revoked, a role or team membership removed, a
user disabled, a project restricted) bumps the node's *generation*: the modification time
of one small file in the data folder, which every worker of the node reads with one
``stat`` per request. So it applies at once on the node that made it, and within the
cache time on the others. Only successes are kept: a wrong credential is checked (and
counted by the throttle) every time.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

from django.conf import settings

from packages_app import access
from packages_app.authentication import identify

# Enough for every CI job and laptop of a company; past it the cache starts again.
MAX_ENTRIES = 4096

_kept: dict[str, tuple[float, int, access.Viewer]] = {}
_bump_lock = threading.Lock()


def _generation_file() -> Path:
    return Path(settings.DATA_DIR) / "credentials-generation"


def generation() -> int:
    try:
        return os.stat(_generation_file()).st_mtime_ns
    except FileNotFoundError:
        return 0


def credentials_changed() -> None:
    """Forget every kept credential on this node (every worker sees it at its next request)."""
    path = _generation_file()
    with _bump_lock:
        _kept.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        # Strictly later than before, even when two changes fall in one tick of the clock.
        moment = max(time.time_ns(), generation() + 1)
        os.utime(path, ns=(moment, moment))


def viewer_for(authorization_header: str, request=None) -> access.Viewer:
    """The viewer these credentials prove; ``access.ANONYMOUS`` when none were sent.

    Raises what ``authentication.identify`` raises for wrong credentials.
    """
    if not authorization_header:
        return access.ANONYMOUS
    key = hashlib.sha256(authorization_header.encode("utf-8", "surrogateescape")).hexdigest()
    current = generation()
    now = time.time()
    kept = _kept.get(key)
    if kept is not None and kept[0] > now and kept[1] == current:
        return kept[2]
    viewer = access.viewer_of(identify(authorization_header, request))
    if len(_kept) >= MAX_ENTRIES:
        _kept.clear()
    _kept[key] = (now + settings.CREDENTIALS_CACHE_SECONDS, current, viewer)
    return viewer


def _changed(sender, **kwargs) -> None:
    credentials_changed()


def _project_saved(sender, update_fields=None, **kwargs) -> None:
    if update_fields is None or "visibility" in update_fields:
        credentials_changed()


def connect_signals() -> None:
    """Bump the generation on every change that can take a read away, however it is made
    (a service, the admin, a shell)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models import signals

    from packages_app.models import ApiToken, Project, Role

    user_model = get_user_model()
    for model in (ApiToken, Role, user_model, Group):
        signals.post_save.connect(_changed, sender=model, dispatch_uid=f"credentials-saved-{model.__name__}")
        signals.post_delete.connect(_changed, sender=model, dispatch_uid=f"credentials-deleted-{model.__name__}")
    for through in (user_model.groups.through, ApiToken.projects.through):
        signals.m2m_changed.connect(_changed, sender=through, dispatch_uid=f"credentials-m2m-{through.__name__}")
    signals.post_save.connect(_project_saved, sender=Project, dispatch_uid="credentials-project-saved")
    signals.post_delete.connect(_changed, sender=Project, dispatch_uid="credentials-project-deleted")
