"""gunicorn's access log as one JSON object a line (``LOG_FORMAT=json``).

gunicorn formats access lines with %-atoms and escapes only double quotes, so a
request target or user agent holding a backslash or a control character would
break a JSON template. Here the fields go to python-json-logger as a dict, which
encodes them properly.
"""

from __future__ import annotations

import os
import traceback

from gunicorn.glogging import Logger
from pythonjsonlogger.json import JsonFormatter

_JSON = JsonFormatter(
    "%(asctime)s %(levelname)s %(name)s %(message)s",
    rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
)


class JsonAccessLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            for handler in log.handlers:
                handler.setFormatter(_JSON)

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        fields = {
            "remote_addr": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "protocol": environ.get("SERVER_PROTOCOL"),
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "user_agent": environ.get("HTTP_USER_AGENT"),
            "referer": environ.get("HTTP_REFERER"),
            "request_id": environ.get("HTTP_X_REQUEST_ID"),
            "worker_pid": os.getpid(),
        }
        try:
            self.access_log.info("request", extra=fields)
        except Exception:  # noqa: BLE001 - a log line must never fail a request
            self.error(traceback.format_exc())
