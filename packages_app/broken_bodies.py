"""A request body that breaks off while a view reads it is the client's doing: a 400, not a 500.

The connection is reset, or the worker's watchdog (indexsite/gunicorn_worker.py) closes a
client that sends too slowly, while a view reads the body (XML-RPC, the token exchange, the
metadata API's writes): Django raises ``UnreadablePostError``, and without this every such
client left a 500 and a traceback in the log. The upload endpoint reads its body itself and
answers these on its own.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, UnreadablePostError

logger = logging.getLogger(__name__)


class BrokenBodyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, UnreadablePostError):
            return None
        logger.info("the request body of %s %s broke off: %s", request.method, request.path, exception)
        response = HttpResponse(
            "The request body could not be read: the connection broke or the client stopped sending.\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
        response["Cache-Control"] = "no-store"
        response._has_been_logged = True  # a client's failure: the info line above is enough
        return response
